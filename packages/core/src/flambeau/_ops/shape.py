"""Shape ops: views (reshape, permute, expand, ...) and copies (cat, stack, repeat, ...)."""

from __future__ import annotations

import builtins
import math

from flambeau import _dtype
from flambeau._keywords import list_keyword, sizes_by_keyword
from flambeau._ops._util import (
    Tensor,
    as_strided_array,
    check_same_device,
    make,
    with_out,
    wrap_dim,
    write_out,
)
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._function import Function, mark_view, node_variant

# ------------------------------------------------------------------ views


def _infer_shape(shape, numel, op):
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (got shape {list(shape)})")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or numel % known:
            raise RuntimeError(
                f"{op}: shape '{list(shape)}' is invalid for input of size {numel}"
            )
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if math.prod(shape) != numel or builtins.any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


class Reshape(Function):
    """``view``, ``reshape``, ``flatten``: torch's ``ViewBackward0`` (a reshape that copies
    is one node here, where torch records a clone and an ``UnsafeViewBackward0``)."""

    _node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape, must_view):
        a = x._data
        ctx.in_shape = a.shape
        try:
            out = x._device._xp.reshape(a, shape, copy=False)
            ctx._is_view = True
        except ValueError:
            if must_view:
                raise RuntimeError(
                    f"view size is not compatible with input tensor's size and stride (shape "
                    f"{tuple(a.shape)} -> {shape}): at least one dimension spans across two "
                    "contiguous subspaces. Use .reshape(...) instead."
                ) from None
            out = a.reshape(shape)
        return out

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None, None


Unsqueeze = node_variant(Reshape, "UnsqueezeBackward0")
Squeeze = node_variant(Reshape, "SqueezeBackward0")  # squeeze(); of a dim, of dims:
SqueezeDim = node_variant(Reshape, "SqueezeBackward1")
SqueezeDims = node_variant(Reshape, "SqueezeBackward2")


@list_keyword("shape")
def reshape(input, *sizes, shape=None):
    """The same data with a new shape (a view when possible; -1 infers one size).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.arange(6).reshape(2, -1)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    if shape is not None:  # reshape(shape=(2, 3))
        sizes = sizes_by_keyword("reshape", "shape", sizes, shape)
    shape = _infer_shape(_shape_args(sizes), input._data.size, "reshape")
    if shape == input._data.shape:
        if input.requires_grad or _autograd_function._forward_ad_on:
            return Reshape.apply(input, shape, False)  # recorded, or carrying its tangent
        return _alias(input)
    return Reshape.apply(input, shape, False)


@list_keyword("size")
def view(input, *shape, size=None, dtype=None):
    """A view with a new shape; fails when the data would have to be copied.

    Passing a dtype reinterprets the bytes (``view(flambeau.int32)``); between element sizes
    (complex64 <-> float32) the last dimension scales, under PyTorch's conditions.

    Raises
    ------
    RuntimeError
        If the shape doesn't fit, or a dtype of another element size can't view the tensor
        (0-dim, last dim not contiguous, sizes, offset or strides not divisible).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(4)
    >>> v = x.view(2, 2); v[0, 0] = 1
    >>> x
    tensor([1., 0., 0., 0.])
    >>> x.view(flambeau.complex64)
    tensor([1.+0.j, 0.+0.j])
    """
    if size is not None or dtype is not None:  # view(size=(2, 3)), view(dtype=...)
        shape = _view_keywords(shape, size, dtype)
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        _check_view_dtype(input, shape[0])
        arr = input._data.view(shape[0].np)
        out = make(arr, input)
        mark_view(out, input)
        return out
    shape = _infer_shape(_shape_args(shape), input._data.size, "view")
    return Reshape.apply(input, shape, True)


def _view_keywords(shape, size, dtype):
    """The arguments of ``view`` given as ``size=`` or ``dtype=``, its two overloads."""
    if size is not None and dtype is not None:
        raise TypeError("view() received an invalid combination of arguments: size= and "
                        "dtype= are two overloads, view(size) and view(dtype)")
    if dtype is None:
        return sizes_by_keyword("view", "size", shape, size)
    if shape:
        raise TypeError("view() got multiple values for argument 'dtype'")
    return (dtype,)


#: PyTorch's scalar type names, for view(dtype)'s messages
_SCALAR_NAMES = _dtype._SCALAR_TYPE_NAMES


def _check_view_dtype(t, dtype):
    """PyTorch's conditions for viewing ``t``'s bytes as ``dtype`` of another element size
    (complex64 <-> float32 pairs...): the last dim contiguous, and for a larger element its
    size, the storage offset and the other strides divisible by the size ratio."""
    old, new = t._data.dtype.itemsize, dtype.itemsize
    if old == new:
        return
    what = (f"to view {_SCALAR_NAMES[t.dtype.name]} as {_SCALAR_NAMES[dtype.name]} "
            "(different element sizes)")
    a = t._data
    if a.ndim == 0:
        raise RuntimeError(f"self.dim() cannot be 0 {what}")
    # a dim of size 0 or 1 has no meaningful stride (NumPy's may be anything there)
    strides = [st // old if n > 1 else 1 for st, n in zip(a.strides, a.shape)]
    if strides[-1] != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {strides[-1]}")
    if new > old:
        ratio = new // old
        if a.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got "
                               f"{a.shape[-1]}")
        offset = t.storage_offset()
        if offset % ratio:
            raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, "
                               f"but got {offset}")
        for i, st in enumerate(strides[:-1]):
            if a.shape[i] > 1 and st % ratio:
                raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {what}, "
                                   f"but got {st}")


def _alias(t):
    out = Tensor._make(t._data, t._device)
    mark_view(out, t)
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3, 4).flatten(1).shape
    flambeau.Size([2, 12])
    """
    nd = input._data.ndim
    if nd == 0:
        return input.reshape(1)
    s, e = wrap_dim(start_dim, nd, "flatten"), wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    return input.reshape(shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 12).unflatten(1, (3, 4)).shape
    flambeau.Size([2, 3, 4])
    """
    d = wrap_dim(dim, input._data.ndim, "unflatten")
    shape = input._data.shape
    sizes = _infer_shape(sizes, shape[d], "unflatten")
    return input.reshape(shape[:d] + tuple(sizes) + shape[d + 1:])


class Permute(Function):
    _is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._device._xp.transpose(x._data, dims)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return g.permute(*inverse), None


Transpose = node_variant(Permute, "TransposeBackward0")
T = node_variant(Permute, "TBackward0")


@list_keyword("dims")
def permute(input, *sizes, dims=None):
    """A view with dimensions reordered.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3, 4).permute(2, 0, 1).shape
    flambeau.Size([4, 2, 3])
    """
    if dims is not None:  # permute(dims=(1, 0))
        sizes = sizes_by_keyword("permute", "dims", sizes, dims)
    dims = _shape_args(sizes)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    """Swap two dimensions (a view).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).transpose(0, 1).shape
    flambeau.Size([3, 2])
    """
    nd = input._data.ndim
    if nd == 0:
        if input.requires_grad or _autograd_function._forward_ad_on:
            return input.view_as(input)  # recorded, or carrying its tangent's alias
        return _alias(input)
    d0, d1 = wrap_dim(dim0, nd, "transpose"), wrap_dim(dim1, nd, "transpose")
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Transpose.apply(input, tuple(dims))


swapdims = transpose


def swapaxes(input, axis0, axis1):
    """Swap two dimensions: ``transpose`` with NumPy's argument names, as ``torch.swapaxes``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.swapaxes(flambeau.zeros(2, 3), axis0=0, axis1=1).shape
    flambeau.Size([3, 2])
    """
    return transpose(input, axis0, axis1)


def t(input):
    """Transpose a tensor of at most 2 dimensions.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.arange(6).reshape(2, 3).t().shape
    flambeau.Size([3, 2])
    """
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return T.apply(input, (1, 0) if input._data.ndim == 2 else tuple(range(input._data.ndim)))


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3, 4).movedim(0, -1).shape
    flambeau.Size([3, 4, 2])
    """
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [wrap_dim(s, nd, "movedim") for s in src]
    dst = [wrap_dim(d, nd, "movedim") for d in dst]
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, *order)


moveaxis = movedim


def adjoint(input):
    """The last two dims swapped (real tensors).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).adjoint().shape
    flambeau.Size([3, 2])
    """
    return transpose(input, -2, -1)


def squeeze(input, dim=None):
    """Remove dims of size 1 (all, or those in ``dim``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(1, 2, 1).squeeze().shape, flambeau.zeros(1, 2, 1).squeeze(0).shape
    (flambeau.Size([2]), flambeau.Size([2, 1]))
    """
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
        return Squeeze.apply(input, new, False)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = {wrap_dim(d, len(shape), "squeeze") for d in dims}
    new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return (SqueezeDim if isinstance(dim, int) else SqueezeDims).apply(input, new, False)


def unsqueeze(input, dim):
    """Insert a dim of size 1 at ``dim``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).unsqueeze(1).shape
    flambeau.Size([2, 1, 3])
    """
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1, "unsqueeze")
    return Unsqueeze.apply(input, shape[:d] + (1,) + shape[d:], False)


class Expand(Function):
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return x._device._xp.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine sums the broadcast dims back to the input's shape


@list_keyword("size")
def expand(input, *sizes, size=None, implicit=False):
    """A broadcast view with ``sizes`` (-1 keeps a size); no memory is copied.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([[1], [2]]).expand(2, 3)
    tensor([[1, 1, 1],
            [2, 2, 2]])
    """
    if size is not None:  # expand(size=(2, 3)); implicit= is torch's internal flag
        sizes = sizes_by_keyword("expand", "size", sizes, size)
    sizes = tuple(_shape_args(sizes))
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing "
                                   f"dimension {i}")
            target.append(s)
            continue
        have = shape[i - lead]
        if s == -1:
            s = have
        if have != s and have != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
        target.append(s)
    target = tuple(target)
    if target == shape:
        return input if not input._requires_grad else Expand.apply(input, target)
    return Expand.apply(input, target)


def expand_as(input, other):
    """``input.expand(other.shape)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ones(1).expand_as(flambeau.zeros(3))
    tensor([1., 1., 1.])
    """
    return expand(input, *other.shape)


@list_keyword("size")
def broadcast_to(input, *shape, size=None):
    """``input.expand(shape)``; the method also takes the sizes as arguments, as torch's.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.broadcast_to(flambeau.tensor([1, 2]), (2, 2))
    tensor([[1, 2],
            [1, 2]])
    >>> flambeau.tensor([1, 2]).broadcast_to(3, 2).shape
    flambeau.Size([3, 2])
    """
    if size is not None:  # broadcast_to(x, size=(2, 3))
        shape = sizes_by_keyword("broadcast_to", "size", shape, size)
    return expand(input, *_shape_args(shape))


def broadcast_tensors(*tensors):
    """Expand tensors to their common broadcast shape.

    Examples
    --------
    >>> import flambeau
    >>> a, b = flambeau.broadcast_tensors(flambeau.zeros(2, 1), flambeau.zeros(3))
    >>> a.shape, b.shape
    (flambeau.Size([2, 3]), flambeau.Size([2, 3]))
    """
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, *shape) for t in tensors)


def broadcast_shapes(*shapes):
    """The shape tensors of ``shapes`` broadcast to.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.broadcast_shapes((2, 1), (3,))
    flambeau.Size([2, 3])
    """
    from flambeau._tensor import Size

    nd = builtins.max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for s in shapes:
        for i, n in enumerate(s):
            j = nd - len(s) + i
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise RuntimeError(
                    f"shape mismatch: objects cannot be broadcast to a single shape: "
                    f"{' and '.join(str(tuple(x)) for x in shapes)}"
                )
    return Size(out)


# ------------------------------------------------------------------ joining and splitting


def _common_dtype(tensors, op):
    first = tensors[0]
    same = builtins.all(t._data.dtype == first._data.dtype for t in tensors)
    for t in tensors[1:]:
        check_same_device(op, first, t)
    if same:
        return tensors
    rt = _dtype.result_type(*tensors)
    return [t if t.dtype is rt else t.to(rt) for t in tensors]


class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *tensors):
        xp = tensors[0]._device._xp
        ctx.axis = axis
        ctx.sizes = [t._data.shape[axis] for t in tensors]
        return xp.concatenate([t._data for t in tensors], axis=axis)

    @staticmethod
    def backward(ctx, g):
        return (None, *split(g, ctx.sizes, ctx.axis))


class Stack(Function):
    """``stack`` in one node, as torch's (not a ``cat`` of unsqueezed inputs)."""

    @staticmethod
    def forward(ctx, axis, *tensors):
        ctx.axis = axis
        return tensors[0]._device._xp.stack([t._data for t in tensors], axis=axis)

    @staticmethod
    def backward(ctx, g):
        return (None, *g.unbind(ctx.axis))


def tensor_sequence(tensors, op):
    """``tensors`` (a sequence or iterable of Tensors) as a list, refusing what torch refuses:
    a Tensor (whose rows would silently become the list) and elements that are not Tensors.
    """
    # not a sequence at all (None, a number) too: name the op and the argument
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    tensors = list(tensors)
    for t in tensors:  # no enumerate: cat runs this on every call
        if not isinstance(t, Tensor):
            i = next(i for i, t in enumerate(tensors) if not isinstance(t, Tensor))
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim (shapes must match elsewhere).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.cat([flambeau.zeros(1, 2), flambeau.ones(2, 2)]).shape
    flambeau.Size([3, 2])
    """
    tensors = tensor_sequence(tensors, "cat")
    tensors = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or \
        tensors[:1]
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    ref = tensors[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    axis = wrap_dim(dim, nd, "cat")
    for i, t in enumerate(tensors):
        if t._data.ndim != nd:
            raise RuntimeError(
                f"cat(): Tensors must have same number of dimensions: got {nd} and "
                f"{t._data.ndim} (tensor {i} has shape {tuple(t.shape)})"
            )
        for d in range(nd):
            if d != axis and t._data.shape[d] != ref._data.shape[d]:
                raise RuntimeError(
                    f"cat(): Sizes of tensors must match except in dimension {axis}. Expected "
                    f"size {ref._data.shape[d]} but got size {t._data.shape[d]} for tensor "
                    f"number {i} in the list (shapes {tuple(ref.shape)} and {tuple(t.shape)})"
                )
    tensors = _common_dtype(tensors, "cat")
    result = Cat.apply(axis, *tensors)
    return write_out(result, out)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join same-shaped tensors along a new dim.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.stack([flambeau.zeros(2), flambeau.ones(2)], dim=1)
    tensor([[0., 1.],
            [0., 1.]])
    """
    tensors = tensor_sequence(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(t.shape)} at entry {i}"
            )
    d = wrap_dim(dim, len(shape) + 1, "stack")
    return write_out(Stack.apply(d, *_common_dtype(tensors, "stack")), out)


def hstack(tensors, *, out=None):
    """Stack horizontally (along dim 1, or 0 for 1-D tensors).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.hstack([flambeau.zeros(2), flambeau.ones(1)])
    tensor([0., 0., 1.])
    """
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in tensor_sequence(tensors, "hstack")]
    if not tensors:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Stack vertically (1-D tensors become rows).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.vstack([flambeau.zeros(2), flambeau.ones(2)]).shape
    flambeau.Size([2, 2])
    """
    tensors = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensor_sequence(tensors, "vstack")]
    if not tensors:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat(tensors, 0, out=out)


class Narrow(Function):
    _is_view = True
    _node_name = "SliceBackward0"  # torch's node for narrow and slicing

    @staticmethod
    def forward(ctx, x, axis, start, length):
        ctx.meta = (x._data.shape, axis, start)
        index = [slice(None)] * x._data.ndim
        index[axis] = slice(start, start + length)
        return x._data[tuple(index)]

    @staticmethod
    def backward(ctx, g):
        shape, axis, start = ctx.meta
        pad_width = [0, 0] * (len(shape) - axis - 1) + [start, shape[axis] - start - g.shape[axis]]
        return pad(g, pad_width), None, None, None


def narrow(input, dim, start, length):
    """A view of ``length`` elements of dim ``dim`` from ``start``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.arange(5).narrow(0, 1, 3)
    tensor([1, 2, 3])
    """
    return Narrow.apply(input, *narrow_args("narrow", input, dim, start, length))


def narrow_args(op, input, dim, start, length):
    """``(axis, start, length)`` of a narrow, checked with torch's errors."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError(f"{op}() cannot be applied to a 0-dim tensor.")
    axis = wrap_dim(dim, nd, op)
    size = input._data.shape[axis]
    start = int(start.item()) if isinstance(start, Tensor) else int(start)
    if not -size <= start <= size:
        raise IndexError(f"{op}(): start out of range (expected to be in range of "
                         f"[{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError(f"{op}(): length ({length}) must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"{op}(): start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}) of dim {axis}.")
    return axis, start, int(length)


def split_method(self, split_size, dim=0):
    """``Tensor.split``: :func:`flambeau.split` with torch's method argument name.

    Examples
    --------
    >>> import flambeau
    >>> [t.tolist() for t in flambeau.arange(5).split(split_size=2)]
    [[0, 1], [2, 3], [4]]
    """
    return split(self, split_size, dim)


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of a size, or of the listed sizes, along ``dim`` (views).

    Examples
    --------
    >>> import flambeau
    >>> [p.tolist() for p in flambeau.arange(5).split(2)]
    [[0, 1], [2, 3], [4]]
    >>> [p.tolist() for p in flambeau.arange(5).split([1, 4])]
    [[0], [1, 2, 3, 4]]
    """
    axis = wrap_dim(dim, tensor._data.ndim, "split")
    size = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {step}")
        sizes = [builtins.min(step, size - s) for s in range(0, size, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {axis}), but got split_sizes={sizes}"
            )
    by_size = isinstance(split_size_or_sections, int)
    return (Split if by_size else SplitWithSizes).apply(tensor, axis, tuple(sizes), by_size)


class Split(Function):
    """Views of consecutive pieces along an axis, in one node (torch's ``SplitBackward0``, or
    ``SplitWithSizesBackward0`` for listed sizes): its backward joins the pieces' gradients in
    one concatenation, with zeros only for the pieces that got none, where a node per piece
    would make a zero-padded array of the whole input for each piece and add them up. As in
    torch, its outputs may not be written in place while recording (see
    ``check_view_write``)."""

    _is_view = True
    _multi_output_view = True

    @staticmethod
    def forward(ctx, x, axis, sizes, by_size):
        ctx.set_materialize_grads(False)
        ctx.axis, ctx.sizes, ctx.by_size = axis, sizes, by_size
        a = x._data
        index = [slice(None)] * a.ndim
        pieces, start = [], 0
        for size in sizes:
            index[axis] = slice(start, start + size)
            pieces.append(a[tuple(index)])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return _join_grads(ctx, grads, cat, lambda g: g), None, None, None


SplitWithSizes = node_variant(Split, "SplitWithSizesBackward0")


class Unbind(Function):
    """The slices along an axis, in one node (torch's ``UnbindBackward0``): backward stacks
    their gradients. Like :class:`Split`'s, its outputs may not be written in place while
    recording."""

    _is_view = True
    _multi_output_view = True

    def name(self):
        return "UnbindBackward0"

    @staticmethod
    def forward(ctx, x, axis):
        ctx.set_materialize_grads(False)
        a = x._data
        ctx.axis, ctx.sizes = axis, (1,) * a.shape[axis]
        index = [slice(None)] * a.ndim
        pieces = []
        for i in range(a.shape[axis]):
            index[axis] = i
            pieces.append(a[tuple(index)])
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return _join_grads(ctx, grads, stack, lambda g: g.unsqueeze(ctx.axis)), None


def _join_grads(ctx, grads, join, as_piece):
    """The input's gradient from its pieces' (None for a piece that got none): ``join``
    (cat or stack along ``ctx.axis``) of the gradients, zeros filling the gaps; None when
    no piece got a gradient."""
    present = [g for g in grads if g is not None]
    if not present:
        return None
    if len(present) == len(grads):
        return join(list(grads), ctx.axis)
    ref = as_piece(present[0])
    shape = list(ref._data.shape)
    parts = []
    for g, size in zip(grads, ctx.sizes):
        if g is None:
            shape[ctx.axis] = size
            g = ref.new_zeros(shape)
        else:
            g = as_piece(g)
        parts.append(g)
    return cat(parts, ctx.axis)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal parts or at the given indices.

    Examples
    --------
    >>> import flambeau
    >>> [p.tolist() for p in flambeau.arange(5).tensor_split(2)]
    [[0, 1, 2], [3, 4]]
    """
    axis = wrap_dim(dim, input._data.ndim, "tensor_split")
    size = input._data.shape[axis]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        q, r = divmod(size, n)
        sizes = [q + 1] * r + [q] * (n - r)
    else:
        bounds = [0, *indices_or_sections, size]
        sizes = [builtins.max(0, builtins.min(b, size) - builtins.min(a, size))
                 for a, b in zip(bounds, bounds[1:])]
    # a narrow per piece (torch's SliceBackward0 nodes), whose outputs may be written in place
    out, start = [], 0
    for s in sizes:
        out.append(narrow(input, axis, builtins.min(start, size), s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller).

    Examples
    --------
    >>> import flambeau
    >>> len(flambeau.arange(6).chunk(3))
    3
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = wrap_dim(dim, input._data.ndim, "chunk")
    size = input._data.shape[axis]
    step = -(-size // chunks) if size else 1
    return split(input, step, axis)


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple of views.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.unbind(flambeau.tensor([[1, 2], [3, 4]]), 1)
    (tensor([1, 3]), tensor([2, 4]))
    """
    axis = wrap_dim(dim, input._data.ndim, "unbind")
    return Unbind.apply(input, axis)


class Flip(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x._device._xp.flip(x._data, axes).copy()

    @staticmethod
    def backward(ctx, g):
        return flip(g, ctx.axes), None


def flip(input, dims):
    """Reverse the order along ``dims`` (a copy, as in PyTorch).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.flip(flambeau.arange(3), [0])
    tensor([2, 1, 0])
    """
    dims = [dims] if isinstance(dims, int) else list(dims)
    axes = tuple(wrap_dim(d, input._data.ndim, "flip") for d in dims)
    if len(set(axes)) != len(axes):
        twice = next(a for i, a in enumerate(axes) if a in axes[:i])
        raise RuntimeError(f"flip: dim {twice} appears multiple times in the list of dims "
                           f"{dims}")
    return Flip.apply(input, axes)


@list_keyword("dims", op="flip")
def flip_method(self, *sizes, dims=None):
    """``Tensor.flip``: the dims as a list or one by one (``x.flip(0, 2)``), as in torch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.arange(4).reshape(2, 2).flip(0, 1)
    tensor([[3, 2],
            [1, 0]])
    """
    if dims is not None:  # x.flip(dims=(0,))
        sizes = sizes_by_keyword("flip", "dims", sizes, dims)
    return flip(self, _shape_args(sizes))


def fliplr(input):
    """Flip dim 1.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.fliplr(flambeau.tensor([[1, 2]]))
    tensor([[2, 1]])
    """
    return flip(input, [1])


def flipud(input):
    """Flip dim 0.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.flipud(flambeau.tensor([[1], [2]]))
    tensor([[2],
            [1]])
    """
    return flip(input, [0])


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.meta = (shifts, axes)
        return x._device._xp.roll(x._data, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        shifts, axes = ctx.meta
        neg = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
        return roll(g, neg, axes), None, None


def roll(input, shifts, dims=None):
    """Rotate elements along ``dims`` by ``shifts`` (the flattened tensor when dims is None).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.roll(flambeau.arange(4), 1)
    tensor([3, 0, 1, 2])
    """
    if dims is None:
        return Roll.apply(input.flatten(), shifts, None).reshape(input.shape)
    if isinstance(dims, int):
        dims = (dims,)
    axes = tuple(wrap_dim(d, input._data.ndim, "roll") for d in dims)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if len(shifts) != len(axes):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims: {len(axes)}")
    return Roll.apply(input, shifts, axes)


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, reps):
        a = x._data
        lead = len(reps) - a.ndim
        ctx.meta = (a.shape, reps, lead)
        return x._device._xp.tile(a.reshape((1,) * lead + a.shape), reps)

    @staticmethod
    def backward(ctx, g):
        shape, reps, lead = ctx.meta
        full = (1,) * lead + tuple(shape)
        # view the result as (rep0, size0, rep1, size1, ...) and sum the rep axes
        split_shape = []
        for r, s in zip(reps, full):
            split_shape += [r, s]
        summed = g.reshape(split_shape).sum(tuple(range(0, 2 * len(reps), 2)))
        return summed.reshape(shape), None


@list_keyword("repeats")
def repeat(input, *sizes, repeats=None):
    """Tile the tensor ``sizes`` times along each dim (copies the data).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    if repeats is not None:  # repeat(repeats=(2, 2))
        sizes = sizes_by_keyword("repeat", "repeats", sizes, repeats)
    reps = tuple(_shape_args(sizes))
    if len(reps) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            f"of tensor (got {len(reps)} and {input._data.ndim})"
        )
    return Repeat.apply(input, reps)


@list_keyword("dims")
def tile(input, *sizes, dims=None):
    """Like :func:`repeat`, with leading ones added when ``dims`` is short; the method also
    takes the counts as arguments (``t.tile(2)``), as torch's.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tile(flambeau.tensor([[1, 2]]), (2,))
    tensor([[1, 2, 1, 2]])
    >>> flambeau.tensor([1j]).tile(2)
    tensor([0.+1.j, 0.+1.j])
    """
    if dims is not None:  # tile(x, dims=(2,))
        sizes = sizes_by_keyword("tile", "dims", sizes, dims)
    dims = tuple(_shape_args(sizes))
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, *dims)


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (along ``dim``, or flattened). ``output_size``,
    the length of the result along ``dim`` if given, is checked, as torch's.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.repeat_interleave(flambeau.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    """
    from flambeau._creation import as_tensor
    from flambeau._ops.indexing import index_select

    if dim is None:
        input, dim = input.flatten(), 0
    axis = wrap_dim(dim, input._data.ndim, "repeat_interleave")
    n = input._data.shape[axis]
    xp = input._device._xp
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = xp.repeat(xp.arange(n), reps)
    if output_size is not None and output_size != idx.shape[0]:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {idx.shape[0]} "
                           f"but got {output_size}")
    return index_select(input, axis, as_tensor(idx, device=input.device))


class Pad(Function):
    _node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, widths, value):
        xp = x._device._xp
        ctx.widths = widths
        neg = builtins.any(lo < 0 or hi < 0 for lo, hi in widths)
        pos = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in widths]
        a = xp.pad(x._data, pos, mode="constant", constant_values=value)
        if neg:
            index = tuple(slice(-builtins.min(lo, 0), a.shape[i] + builtins.min(hi, 0))
                          for i, (lo, hi) in enumerate(widths))
            a = a[index]
        return a

    @staticmethod
    def backward(ctx, g):
        widths = ctx.widths
        if builtins.all(lo >= 0 and hi >= 0 for lo, hi in widths):  # the usual padding: a view
            index = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(widths))
            return g[index], None, None
        # padding by -widths: crops what was padded, zero-fills what negative widths cropped
        return Pad.apply(g, tuple((-lo, -hi) for lo, hi in widths), 0), None, None


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Constant padding, ``pad`` listing (left, right) widths from the last dim backwards.

    Negative widths crop. Other modes are in :func:`flambeau.nn.functional.pad`.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._ops.shape import pad
    >>> pad(flambeau.ones(1, 2), (1, 1), value=0.0)
    tensor([[0., 1., 1., 0.]])
    """
    if mode != "constant":
        raise NotImplementedError(
            f"pad: mode {mode!r} is provided by flambeau.nn.functional.pad (flambeau-nn)"
        )
    pad = list(pad)
    if len(pad) % 2 or len(pad) // 2 > input._data.ndim:
        raise RuntimeError(
            f"pad: padding length {len(pad)} must be even and at most twice the number of "
            f"dimensions ({input._data.ndim}) of the input of shape {tuple(input.shape)}"
        )
    nd = input._data.ndim
    widths = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        widths[nd - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return Pad.apply(input, tuple(widths), 0 if value is None else value)


#: (backend module, device, rows, cols, k, upper, column-major, unit, dtype) -> the mask
#: (bool) and the values outside it (0, or an identity for unit triangles)
_TRIANGLE_MASKS = {}
_TRIANGLE_MASKS_MAX = 64  # masks kept at once (the cache is emptied past this)
_TRIANGLE_MASK_BYTES = 1 << 24  # the largest entry kept (mask and identity: 16 MiB)
_TRIANGLE_MASKS_BYTES = 1 << 26  # all entries together (64 MiB; emptied past this)


def raw_triangle(xp, a, k, upper, unit=False):
    """``a`` (..., rows, cols) with the elements outside its lower (``upper``: upper)
    triangle from diagonal ``k`` set to 0 (NaN and inf too, as in PyTorch); ``unit=True``
    (with ``k`` leaving the main diagonal out) puts ones on the main diagonal.

    ``xp.tril``/``xp.triu`` build their mask on every call, and NumPy's is in C order: on the
    column-major factors LAPACK returns, its ``where`` ran 10x slower (0.54 ms for 256x256
    against 0.05 ms), and so did adding a C-ordered identity to the result. The mask (and the
    identity) here have the layout of ``a``'s last two axes and are kept between calls.

    Examples
    --------
    >>> import numpy as np
    >>> raw_triangle(np, np.arange(1.0, 10.0).reshape(3, 3), -1, False)
    array([[0., 0., 0.],
           [4., 0., 0.],
           [7., 8., 0.]])
    >>> raw_triangle(np, np.arange(1.0, 5.0).reshape(2, 2), 1, True, unit=True)
    array([[1., 2.],
           [0., 1.]])
    """
    rows, cols = a.shape[-2:]
    fortran = rows > 1 and cols > 1 and a.strides[-2] < a.strides[-1]
    # the dtype itself: its .str is '<V1' for every float8, '<V2' for bfloat16
    key = (xp.__name__, str(getattr(a, "device", "")), rows, cols, k, upper, fortran, unit,
           a.dtype)
    cached = _TRIANGLE_MASKS.get(key)
    if cached is None:
        offset = xp.arange(cols)[None, :] - xp.arange(rows)[:, None]
        mask = offset >= k if upper else offset <= k
        other = (offset == 0).astype(a.dtype) if unit else xp.zeros((), dtype=a.dtype)
        if fortran:
            mask = mask.T.copy().T
            other = other.T.copy().T if unit else other
        cached = mask, other
        size = mask.nbytes + other.nbytes  # a unit identity has a's itemsize: count it
        if size <= _TRIANGLE_MASK_BYTES:
            # list(): one C-level copy, which another thread's insert cannot interrupt
            kept = list(_TRIANGLE_MASKS.values())
            if len(kept) >= _TRIANGLE_MASKS_MAX or size + sum(
                    m.nbytes + o.nbytes for m, o in kept) > _TRIANGLE_MASKS_BYTES:
                _TRIANGLE_MASKS.clear()
            _TRIANGLE_MASKS[key] = cached
    return xp.where(cached[0], a, cached[1])


class _Triangle(Function):
    _upper = False

    @classmethod
    def forward(cls, ctx, x, k):
        ctx.k = k
        return raw_triangle(x._device._xp, x._data, k, cls._upper)

    @classmethod
    def backward(cls, ctx, g):
        return (triu if cls._upper else tril)(g, ctx.k), None


class Tril(_Triangle):
    _upper = False


class Triu(_Triangle):
    _upper = True


@with_out
def tril(input, diagonal=0):
    """Keep the lower triangle (on and below ``diagonal``), zero the rest.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tril(flambeau.ones(2, 2))
    tensor([[1., 0.],
            [1., 1.]])
    """
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


@with_out
def triu(input, diagonal=0):
    """Keep the upper triangle (on and above ``diagonal``), zero the rest.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.triu(flambeau.ones(2, 2), 1)
    tensor([[0., 1.],
            [0., 0.]])
    """
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)


class Diagonal(Function):
    """A writable strided view of the diagonals (NumPy's own ``diagonal`` is read-only)."""

    _is_view = True

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.meta = (x._data.shape, offset, d1, d2)
        a = x._data
        start = [slice(None)] * a.ndim
        start[d2 if offset >= 0 else d1] = slice(builtins.abs(offset), None)
        a = a[tuple(start)]  # the first diagonal element is now at a's origin
        length = builtins.max(0, builtins.min(a.shape[d1], a.shape[d2]))
        others = [i for i in range(a.ndim) if i not in (d1, d2)]
        shape = tuple(a.shape[i] for i in others) + (length,)
        strides = tuple(a.strides[i] for i in others) + (a.strides[d1] + a.strides[d2],)
        return as_strided_array(x._device._xp, a, shape, strides)

    @staticmethod
    def backward(ctx, g):
        from flambeau._creation import arange

        shape, offset, d1, d2 = ctx.meta
        n1, n2 = shape[d1], shape[d2]
        length = g.shape[-1]
        rows = arange(length, device=g.device) + builtins.max(0, -offset)
        others = tuple(n for i, n in enumerate(shape) if i not in (d1, d2))
        full = g.new_zeros(*others, n1, n2)
        full[..., rows, rows + offset] = g
        return movedim(full, (-2, -1), (d1, d2)), None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the ``(dim1, dim2)`` planes, as the last dim.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.diagonal(flambeau.arange(4).reshape(2, 2))
    tensor([0, 3])
    """
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd, "diagonal"), wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:  # NumPy's view of one dimension twice reads past the data
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset, d1, d2)


@with_out(exact=True)
def diag(input, diagonal=0):
    """A diagonal matrix from a vector, or the diagonal of a matrix.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.diag(flambeau.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    """
    if input._data.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    if input._data.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input._data.ndim}D")
    n = input._data.shape[0] + builtins.abs(diagonal)
    from flambeau._creation import eye

    base = eye(n, dtype=input.dtype, device=input.device)
    # row i of the result takes x[i + diagonal] (d < 0) / column j takes x[j - d] (d > 0)
    row = pad(input, (builtins.abs(diagonal), 0))
    mask = (base if diagonal == 0 else roll(base, diagonal, 1) * (
        triu(base.new_ones(n, n), diagonal) if diagonal > 0 else tril(base.new_ones(n, n),
                                                                       diagonal)))
    return mask * (row.unsqueeze(0) if diagonal >= 0 else row.unsqueeze(1))


def trace(input):
    """The sum of the main diagonal of a matrix.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.trace(flambeau.arange(4.0).reshape(2, 2))
    tensor(3.)
    """
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{input._data.ndim} (shape {tuple(input.shape)})")
    return diagonal(input).sum()

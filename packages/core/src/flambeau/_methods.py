"""Tensor methods and operators, attached from the op modules (one table, no duplication)."""

from __future__ import annotations

import functools
import gc
import sys
import warnings

from flambeau import _compat, _creation, _dtype, _inplace, _keywords, _storage, _streams
from flambeau._device import canonical
from flambeau._ops import _deprecated, removed
from flambeau._ops import complex as cx
from flambeau._ops import decompositions as dc
from flambeau._ops import elementwise as ew
from flambeau._ops import indexing as ix
from flambeau._ops import indexing_more as ixm
from flambeau._ops import linalg as la
from flambeau._ops import linalg_more as lam
from flambeau._ops import lu as lu_ops
from flambeau._ops import reduction as rd
from flambeau._ops import reduction_more as rdm
from flambeau._ops import shape as sh
from flambeau._ops import shape_more as shm
from flambeau._ops import special as sp
from flambeau._ops import special_more as spm
from flambeau._ops import spectral as spc
from flambeau._ops import strided_numeric as sn
from flambeau._ops import tensor_more as tm
from flambeau._ops._util import fill_int
from flambeau._sparse import RefusingStorage, SparseUnsupported, refuse_sparse_inputs
from flambeau._tensor import Tensor
from flambeau.autograd import _forward
from flambeau.autograd import _function as _autograd_function
from flambeau.autograd._function import Function
from flambeau.autograd._grad_mode import state as _grad_state

# ------------------------------------------------------------------ conversions


def _real_part_of(data, stacklevel):
    """The real part of a complex array cast into a real dtype, with PyTorch's warning."""
    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning,
                  stacklevel=stacklevel)
    return data.real


class ToCopy(Function):
    @staticmethod
    def forward(ctx, x, np_dtype, dev, non_blocking=False):
        ctx.src = (x._data.dtype, x._device)
        data = x._data
        if dev is not x._device:
            host = x._device.backend.to_host(data)
            if dev.type == "cpu":
                data = host
            elif non_blocking:  # only backends that copy asynchronously take the flag
                data = dev.backend.from_host(host, dev.index, non_blocking=True)
            else:
                data = dev.backend.from_host(host, dev.index)
            if data is x._data:
                data = data.copy()
        if np_dtype is not None and data.dtype != np_dtype:
            if data.dtype.kind == "c" and np_dtype.kind not in "cb":  # bool: nonzero, as torch
                data = _real_part_of(data, stacklevel=5)
            data = (_dtype.cast(data, np_dtype) if np_dtype in _dtype.CAST_FIXED
                    or data.dtype in _dtype.CAST_FIXED else data.astype(np_dtype))
        elif data is x._data:
            data = data.copy()
        return Tensor._make(data, dev)

    @staticmethod
    def backward(ctx, g):
        np_dtype, dev = ctx.src
        if g._data.dtype.kind == "c" and np_dtype.kind != "c":
            g = g.real  # a real input's gradient is the real part, without the cast's warning
        return ToCopy.apply(g, np_dtype, dev), None, None, None


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    non_blocking = kwargs.pop("non_blocking", False)
    kwargs.pop("memory_format", None)  # checked by to(): C order whatever the format
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, bool):
            copy = a if a is not None else copy
        elif a is not None:
            device = a
    return dtype, device, copy, non_blocking


def to(self, *args, **kwargs):
    """A tensor with another dtype and/or device (``self`` when nothing changes).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.7])
    >>> x.to(flambeau.int64), x.to("cpu") is x
    (tensor([1]), True)
    """
    _compat.check_memory_format("to", kwargs.get("memory_format"), self._data.ndim)
    dtype, device, copy, non_blocking = _parse_to(args, dict(kwargs))
    dev = self._device if device is None else canonical(device)
    np_dtype = None if dtype is None else _dtype.to_dtype(dtype).np
    if dev is self._device and (np_dtype is None or np_dtype == self._data.dtype) and not copy:
        return self
    return ToCopy.apply(self, np_dtype, dev, bool(non_blocking))


def _caster(dt):
    def cast(self, *, memory_format=None):
        _compat.check_memory_format(dt.name, memory_format, self._data.ndim)
        return to(self, dt)

    cast.__name__ = dt.name
    cast.__doc__ = f"``self.to(flambeau.{dt.name})``."
    return cast


def type_as(self, other):
    """``self.to(other.dtype)``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([1]).type_as(flambeau.zeros(1))
    tensor([1.])
    """
    return to(self, other.dtype)


def type_(self, dtype=None, non_blocking=False, *, memory_format=None):
    """The type name (no argument) or a cast (``t.type(flambeau.float64)``).

    A legacy type (``flambeau.cuda.FloatTensor``, ``"torch.cuda.FloatTensor"``) also moves the
    tensor to its device type, keeping the device index when the type is already right.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(1).type()
    'flambeau.FloatTensor'
    >>> flambeau.zeros(1).type("torch.DoubleTensor").type()
    'flambeau.DoubleTensor'
    """
    if memory_format is not None:  # torch's keyword, as to()'s
        _compat.check_memory_format("type", memory_format, self._data.ndim)
    if dtype is None:
        name = _compat.TYPE_NAMES[self.dtype.name]
        kind = self._device.type
        # as torch: 'torch.FloatTensor' on the CPU, 'torch.cuda.FloatTensor' elsewhere
        return f"flambeau.{name}" if kind == "cpu" else f"flambeau.{kind}.{name}"
    legacy = _compat.tensortype(dtype, "type")  # flambeau.FloatTensor, "torch.FloatTensor"
    if legacy is not None:
        kind = legacy.device_type
        dev = self._device if self._device.type == kind else kind
        return to(self, dev, legacy.dtype, non_blocking=non_blocking)
    return to(self, dtype)  # a flambeau.dtype (strings are legacy names, handled above)


def cpu(self, *, memory_format=None):
    """A copy on the CPU (``self`` if already there).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ones(1).cpu().device
    device(type='cpu')
    """
    _compat.check_memory_format("cpu", memory_format, self._data.ndim)
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False, *, memory_format=None):
    """A copy on a CUDA device (needs the flambeau-cuda plugin).

    Examples
    --------
    >>> import flambeau
    >>> if flambeau.cuda.is_available():
    ...     assert flambeau.ones(1).cuda().is_cuda
    """
    _compat.check_memory_format("cuda", memory_format, self._data.ndim)
    if isinstance(device, int):
        device = f"cuda:{device}"
    return to(self, device or "cuda")


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(self, *, memory_format=None):
    """A copy with its own storage; gradients flow back to ``self``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2); y = x.clone(); y[0] = 1
    >>> x
    tensor([0., 0.])
    """
    _compat.check_memory_format("clone", memory_format, self._data.ndim)
    return Clone.apply(self)


def contiguous(self, *, memory_format=_compat.contiguous_format):
    """``self`` if its data is C-contiguous, else a contiguous copy.

    ``memory_format`` is checked as PyTorch does, but the copy is in C order whatever it is
    (flambeau keeps no channels-last data; see :class:`flambeau.memory_format`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).t().contiguous().is_contiguous()
    True
    """
    _compat.check_memory_format("contiguous", memory_format, self._data.ndim)
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


def is_contiguous(self, *, memory_format=_compat.contiguous_format):
    """Whether the strides lay the elements out densely in ``memory_format``'s dim order
    (C order by default; ``flambeau.channels_last``: N, H, W, C from the outside in).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2, 3, 4, 5)
    >>> x.is_contiguous(), x.is_contiguous(memory_format=flambeau.channels_last)
    (True, False)
    >>> y = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    >>> y.is_contiguous(), y.is_contiguous(memory_format=flambeau.channels_last)
    (False, True)
    """
    _compat.check_memory_format("is_contiguous", memory_format, self._data.ndim, rank=False)
    if memory_format is None or memory_format._order is None:
        return bool(self._data.flags.c_contiguous)
    return _compat.is_contiguous_as(self.shape, _stride(self), memory_format)


def view_as(self, other):
    """``self.view(other.shape)``."""
    return sh.view(self, *other.shape)


def reshape_as(self, other):
    """``self.reshape(other.shape)``."""
    return sh.reshape(self, *other.shape)


def _new(fill):
    @_keywords.list_keyword("size", op="new_" + {0: "zeros", 1: "ones", None: "empty"}[fill])
    def new(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False,
            pin_memory=False):
        _compat.check_layout("new_" + {0: "zeros", 1: "ones", None: "empty"}[fill], layout)
        fn = {0: _creation.zeros, 1: _creation.ones, None: _creation.empty}[fill]
        if size is not None:  # new_zeros(size=(2, 3))
            sizes = _keywords.sizes_by_keyword(f"new_{fn.__name__}", "size", sizes, size)
        t = fn(*sizes, dtype=dtype or self.dtype, device=device or self.device,
               requires_grad=requires_grad)
        return _creation.pinned(t, pin_memory, f"new_{fn.__name__}") if pin_memory else t

    return new


def new_full(self, size, fill_value, *, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    _compat.check_layout("new_full", layout)
    t = _creation.full(size, fill_value, dtype=dtype or self.dtype,
                       device=device or self.device, requires_grad=requires_grad)
    return _creation.pinned(t, pin_memory, "new_full") if pin_memory else t


def new_tensor(self, data, *, dtype=None, layout=None, device=None, requires_grad=False,
               pin_memory=False):
    _compat.check_layout("new_tensor", layout)
    t = _creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)
    return _creation.pinned(t, pin_memory, "new_tensor") if pin_memory else t


# ------------------------------------------------------------------ operators


def _swap(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


def _matmul_r(self, other):
    return la.matmul(other if isinstance(other, Tensor) else _creation.as_tensor(other), self)


def _binary_fast(cls, full):
    """``self <op> other`` with as little Python between the operator and the kernel as we can."""
    def op(self, other):
        # the hot case of training loops: a float tensor and a Python float keep the dtype
        if other.__class__ is float and self._data.dtype.kind == "f":
            return cls.apply(self, other)
        return full(self, other)

    return op


def _truediv(self, other):
    if other.__class__ is float and self._data.dtype.kind == "f":
        return ew.Div.apply(self, other)
    return ew.div(self, other)


def _rsub(self, other):
    return ew.sub(other, self)


def _rdiv(self, other):
    return ew.div(other, self)


def _rpow(self, other):
    return ew.pow(other, self)


def _eq(self, other):
    if other is None:
        return False
    return ew.eq(self, other)


def _ne(self, other):
    if other is None:
        return True
    return ew.ne(self, other)


def _bool_logic(fn_bitwise):
    def op(self, other):
        return fn_bitwise(self, other)

    return op


# ------------------------------------------------------------------ in-place


_UFUNC_FOR = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide"}


def _scaled(self, other, alpha):
    """``alpha * other`` for an in-place ``add_``/``sub_``: a bare array when both tensors
    are floating point on one device (no op dispatch on the optimizer-loop path)."""
    if not isinstance(other, Tensor):
        return other * alpha
    if (other._device is self._device and other._data.dtype.kind == "f"
            and self._data.dtype.kind == "f"):
        return self._device._xp.multiply(other._data, alpha)
    return ew.mul(other, alpha)


def _add_or_sub_in_place(fn_cls):
    def recorded(self, other, alpha=1):
        if not isinstance(other, Tensor) or isinstance(other._data, RefusingStorage) \
                or not _inplace.can_write_in_place(self, other):
            return None
        if alpha != 1:
            other = ew.mul(other, alpha)
            if other._data.dtype != self._data.dtype:
                return None
        return _inplace.record_in_place(self, fn_cls, other)

    return recorded


def _mul_or_div_in_place(fn_cls):
    def recorded(self, other):
        if isinstance(other, Tensor):
            # other's gradient needs self's old values, which the write would lose
            if other.requires_grad or not _inplace.can_write_in_place(self, other):
                return None
        elif (other.__class__ not in (int, float) or self._data.dtype.kind != "f"
              or not _inplace.can_write_in_place(self)):
            return None
        return _inplace.record_in_place(self, fn_cls, other)

    return recorded


def _relu_in_place(self):
    if (not self._requires_grad or self._data.dtype.kind != "f"
            or not _inplace.can_write_in_place(self)):
        return None  # nothing to record, or what write_result handles
    return _inplace.record_in_place(self, ew.ReluInPlace)


#: in-place ops that, while recording, compute straight into the tensor's storage when
#: ``_inplace.can_write_in_place`` allows (``h += residual``, ``relu_``, ``q *= scale``: one
#: array write instead of an out-of-place result and a copy); each returns None to decline
_RECORDED_IN_PLACE = {"add": _add_or_sub_in_place(ew.AddInPlace),
                      "sub": _add_or_sub_in_place(ew.SubInPlace),
                      "mul": _mul_or_div_in_place(ew.MulInPlace),
                      "div": _mul_or_div_in_place(ew.DivInPlace), "relu": _relu_in_place}


def _alpha_checked(self, other, alpha):
    """``alpha`` for an in-place ``add_``/``sub_``, checked as by :func:`flambeau.add` (a
    floating-point tensor takes any real number: the optimizers' path skips the check)."""
    if alpha.__class__ is int and alpha == 1 or (
            alpha.__class__ in (int, float) and self._data.dtype.kind == "f"):
        return alpha
    return ew.check_alpha(_dtype.result_type(self, other), alpha)


def _scalar_first_method(fn):
    """``Tensor.add`` (and the other ops of :mod:`flambeau._ops._deprecated`) taking torch's
    deprecated orders too."""
    name = fn.__name__

    @functools.wraps(fn)  # inspect.signature and help() show fn's signature
    def method(self, *args, **kwargs):
        if args and (len(args) > 1 or kwargs):  # inline: x.add(y) pays no call
            args, kwargs = _deprecated.method_arguments(name, args, kwargs)
        return fn(self, *args, **kwargs)

    return method


def _inplace_method(name, fn):
    ufunc = _UFUNC_FOR.get(name)
    recorded = _RECORDED_IN_PLACE.get(name)
    add_or_sub = name in ("add", "sub")
    scalar_first = name in _deprecated.OPS

    def method(self, *args, **kwargs):
        if scalar_first and args and (len(args) > 1 or kwargs):  # x.add_(y) pays no call
            args, kwargs = _deprecated.method_arguments(name + "_", args, kwargs)
        if ufunc is not None and len(args) > 1:  # the fast paths below read args[0] only
            raise TypeError(f"{name}_() takes 1 positional argument but {len(args)} were given")
        if add_or_sub:
            if name == "sub":
                ew.refuse_bool_sub(self, args[0] if args else kwargs.get("other"))
            if "alpha" in kwargs:
                kwargs["alpha"] = _alpha_checked(self, args[0] if args else kwargs.get("other"),
                                                 kwargs["alpha"])
        if _autograd_function._forward_ad_on and _forward.involves(self, args, kwargs):
            # forward AD: computed with ops, which give the tangent written into self's
            return _inplace.write_result(self, lambda src: fn(src, *args, **kwargs), name + "_",
                                         snapshot=name not in ew.INPUT_FREE)
        if ufunc is not None and not _grad_state.grad_enabled or (
                ufunc is not None and not _inplace.needs_history(self) and not any(
                    isinstance(a, Tensor) and a.requires_grad for a in args)):
            other = args[0] if args else kwargs.pop("other")
            alpha = kwargs.pop("alpha", 1)
            if not kwargs and (name != "div" or self._data.dtype.kind == "f"):
                try:
                    return _inplace.fast_ufunc(
                        self, ufunc, other if alpha == 1 else _scaled(self, other, alpha),
                        name + "_")
                except (SparseUnsupported, TypeError, RuntimeError):
                    # a sparse other (NumPy's refusal, or CuPy's TypeError and what
                    # fast_ufunc makes of it): the op below takes it
                    if not isinstance(getattr(other, "_data", None), RefusingStorage):
                        raise
            if alpha != 1:
                kwargs["alpha"] = alpha  # given by the caller: div_ (no alpha) refuses it
            args = (other,)
        if recorded is not None and _grad_state.grad_enabled and not kwargs.keys() - {"alpha"}:
            done = recorded(self, *args, **kwargs)
            if done is not None:
                return done
        return _inplace.write_result(self, lambda src: fn(src, *args, **kwargs), name + "_",
                                     snapshot=name not in ew.INPUT_FREE)

    method.__name__ = name + "_"
    method.__doc__ = f"In-place :meth:`{name}`."
    return method


def zero_(self):
    """Fill with zeros in place.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ones(2).zero_()
    tensor([0., 0.])
    """
    return fill_(self, 0)


def fill_(self, value):
    """Fill with ``value`` in place.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2).fill_(3)
    tensor([3., 3.])
    """
    if _autograd_function._forward_ad_on and _forward.involves(self, (value,)):
        # forward AD: the tangent becomes the value's (zero for a number)
        return _inplace.write_result(self, lambda src: _creation.zeros_like(src) + value,
                                     "fill_")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        if value.requires_grad and _grad_state.grad_enabled:
            return _inplace.write_result(self, lambda src: value.expand_as(src) + src * 0,
                                         "fill_")
        # cast as a tensor, as torch: wrapped (uint8 fill_(tensor(300)) is 44), the
        # imaginary part warned away; only Python numbers are range-checked
        value = value.to(self.dtype).item()
    else:
        value = _creation.scalar_for(value, self._data.dtype)  # 1j into a real tensor: error
        value = fill_int(value, self._data.dtype)  # uint8 takes -1 as 255; int8 refuses 300
    if _grad_state.grad_enabled and _inplace.needs_history(self):
        if self._base is not None:
            # a view: its base's CopySlices node cuts the gradient of the filled part, so
            # the value needs no history (and the view's old values no snapshot)
            filled = Tensor._make(self._device._xp.full(self._data.shape, value,
                                                        dtype=self._data.dtype), self._device)
            return _inplace.write_result(self, lambda dst: filled, "fill_", snapshot=False)
        return _inplace.write_result(self, lambda src: src * 0 + value, "fill_")
    self._data[...] = value
    self._version_counter.value += 1
    return self


class CopyFrom(Function):
    """``src`` as :meth:`copy_` writes it: moved to ``device``, cast to ``np_dtype`` and
    broadcast to ``shape``. ``old``, the destination when it is not a view, gets a zero
    gradient (as in torch: it stays in the graph); a view's base keeps its old history
    through ``CopySlices`` instead, so a view's old values are no input."""

    _node_name = "CopyBackwards"  # torch's node of copy_, whose inputs are (self, src)
    _graph_inputs = (4, 0)

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"  # torch's, as AccumulateGrad's

    @staticmethod
    def forward(ctx, src, shape, np_dtype, device, old):
        ctx.src_meta = (src._data.dtype, src._device)
        data = src._data
        if src._device is not device:
            data = ToCopy.forward(ctx.__class__.__new__(ToCopy), src, None, device)._data
        out = device._xp.empty(shape, dtype=np_dtype)
        device._xp.copyto(out, data, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, g):
        np_dtype, dev = ctx.src_meta
        gs = ToCopy.apply(g, np_dtype, dev) if ctx.needs_input_grad[0] else None
        gold = g * 0.0 if ctx.needs_input_grad[4] else None
        return gs, None, None, None, gold


def copied_into(dst, src):
    """``src`` with the shape, dtype and device of ``dst``, recorded (for ``write_result``)."""
    old = dst if dst._base is None else None
    return CopyFrom.apply(src, dst._data.shape, dst._data.dtype, dst._device, old)


def copy_(self, other, non_blocking=False):
    """Copy ``other`` (broadcast, cast, moved between devices) into ``self`` (torch's parser
    names it ``other``, its docs ``src``).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(2, 2)
    >>> x.copy_(flambeau.tensor([1, 2]))
    tensor([[1., 2.],
            [1., 2.]])
    """
    src = other
    if not isinstance(src, Tensor):
        src = _creation.tensor(src)
    try:
        import numpy as np

        np.broadcast_shapes(tuple(src.shape), tuple(self.shape))
    except ValueError:
        raise RuntimeError(
            f"copy_: the source of shape {tuple(src.shape)} cannot be broadcast to the "
            f"destination of shape {tuple(self.shape)}"
        ) from None
    if (_grad_state.grad_enabled and (_inplace.needs_history(self) or src.requires_grad)) or (
            _autograd_function._forward_ad_on and _forward.involves(self, (src,))):
        return _inplace.write_result(self, lambda dst: copied_into(dst, src), "copy_",
                                     snapshot=False)
    data = src._data
    if src._device is not self._device:
        data = to(src, self._device)._data
    if data.dtype.kind == "c" and self._data.dtype.kind != "c":
        data = _real_part_of(data, stacklevel=3)
    if (self._data.dtype in _dtype.CAST_FIXED or data.dtype in _dtype.CAST_FIXED) \
            and data.dtype != self._data.dtype:
        data = _dtype.cast(data, self._data.dtype)
    self._device._xp.copyto(self._data, data, casting="unsafe")
    self._version_counter.value += 1
    return self


def set_(self, source):
    """Make ``self`` use ``source``'s storage (shape and data).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(1); x.set_(flambeau.ones(3)).shape
    flambeau.Size([3])
    """
    self._data = source._data
    self._device = source._device
    self._version_counter.value += 1
    return self


def _random_(draw_name, op_name):
    def method(self, *args, generator=None, **kwargs):
        random = __import__("flambeau._random", fromlist=["x"])
        gen = random.generator_for(generator, self._device)
        try:
            if self._data.dtype.kind == "c":  # both parts drawn, as torch
                arr = random.complex_draw(op_name, gen._rng, self, *args, **kwargs)
            else:
                random.check_real_draw(op_name, self, bool(args or kwargs))
                arr = draw_name(gen._rng, self, *args, **kwargs)
        except TypeError:  # a backend's refusal of a sparse tensor (CuPy's)
            refuse_sparse_inputs((self, *args), op_name)
            raise
        if (_grad_state.grad_enabled and _inplace.needs_history(self)) or (
                _autograd_function._forward_ad_on and _forward.involves(self)):
            # the drawn values are constants: no gradient flows through them, as in torch
            # (and a dual's tangent becomes zero)
            drawn = Tensor._make(self._device._xp.asarray(arr, dtype=self._data.dtype),
                                 self._device)
            return _inplace.write_result(self, lambda src: src * 0 + drawn, op_name)
        self._device._xp.copyto(self._data, arr, casting="unsafe")
        self._version_counter.value += 1
        return self

    return method


def _np_float(t):
    dt = t._data.dtype
    return dt if dt.kind == "f" and dt.itemsize >= 4 else _dtype.float32.np


def _affine(u, scale, shift):
    """``u * scale + shift`` for a freshly drawn ``u``, in ``u``'s memory when both are plain
    numbers (the same float arithmetic): two more arrays the size of a large parameter cost
    more in first-touch page faults than the draw itself (VGG16's 138M-value init)."""
    if type(scale) in (int, float) and type(shift) in (int, float):
        u *= scale
        u += shift
        return u
    return u * scale + shift


def _uniform(rng, t, a=0.0, b=1.0):
    return _affine(rng.random(t._data.shape, _np_float(t)), b - a, a)


def _normal(rng, t, mean=0.0, std=1.0):
    return _affine(rng.standard_normal(t._data.shape, _np_float(t)), std, mean)


def _bernoulli(rng, t, p=0.5):
    pr = p._data if isinstance(p, Tensor) else p
    return rng.random(t._data.shape, _np_float(t)) < pr


def _random_int(rng, t, low=None, high=None):
    """``random_([from,] to)``: integers in ``[from, to)``; ``random_()`` spans the dtype
    (``[0, max]`` for integers, ``[0, 2**digits]`` for floats, where every integer is exact),
    with torch's checks of the bounds."""
    random = __import__("flambeau._random", fromlist=["x"])
    if low is None:
        low, last = 0, random.default_random_top(t._data.dtype)
    else:
        if high is None:
            low, high = 0, low
        random.check_random_order(low, high)
        last = high - 1
        random.check_random_bounds(t._data.dtype, low, last)
    # the generators draw int64 below an exclusive bound: int64's own maximum stays out
    return rng.integers(low, min(last + 1, 2 ** 63 - 1), t._data.shape, t._data.dtype)


def _exponential(rng, t, lambd=1.0):
    u = rng.random(t._data.shape, _np_float(t))
    return -t._device._xp.log1p(-u) / lambd


def _cauchy(rng, t, median=0.0, sigma=1.0):
    u = rng.random(t._data.shape, _np_float(t))
    return median + sigma * t._device._xp.tan(3.141592653589793 * (u - 0.5))


def _log_normal(rng, t, mean=1.0, std=2.0):
    return t._device._xp.exp(rng.standard_normal(t._data.shape, _np_float(t)) * std + mean)


def _geometric(rng, t, p):
    u = rng.random(t._data.shape, _np_float(t))
    xp = t._device._xp
    return xp.ceil(xp.log1p(-u) / xp.log1p(-p))


# ------------------------------------------------------------------ the table


def _multinomial(self, num_samples, replacement=False, *, generator=None):
    """Category indices drawn with probabilities proportional to the rows of ``self``; see
    :func:`flambeau.multinomial` (the method takes no ``out=``, as PyTorch's).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([0.0, 3.0]).multinomial(2, replacement=True)
    tensor([1, 1])
    """
    return _creation.multinomial(self, num_samples, replacement, generator=generator)


_multinomial.__name__ = _multinomial.__qualname__ = "multinomial"


def _setitem(self, index, value):
    ix.setitem(self, index, value)


_FUNCTIONAL = {
    # elementwise
    "add": ew.add, "sub": ew.sub, "subtract": ew.subtract, "mul": ew.mul, "multiply": ew.mul,
    "div": ew.div, "divide": ew.div, "true_divide": ew.true_divide,
    "floor_divide": ew.floor_divide, "remainder": ew.remainder, "fmod": ew.fmod, "pow": ew.pow,
    "float_power": ew.float_power, "neg": ew.neg, "negative": ew.neg, "abs": ew.abs,
    "absolute": ew.abs, "exp": ew.exp, "exp2": ew.exp2, "expm1": ew.expm1, "log": ew.log,
    "log1p": ew.log1p, "log2": ew.log2, "log10": ew.log10, "sqrt": ew.sqrt, "rsqrt": ew.rsqrt,
    "square": ew.square, "reciprocal": ew.reciprocal, "sin": ew.sin, "cos": ew.cos,
    "tan": ew.tan, "asin": ew.asin, "acos": ew.acos, "atan": ew.atan, "arcsin": ew.asin,
    "arccos": ew.acos, "arctan": ew.atan, "sinh": ew.sinh, "cosh": ew.cosh, "tanh": ew.tanh,
    "sigmoid": ew.sigmoid, "relu": ew.relu, "erf": ew.erf, "erfc": ew.erfc, "floor": ew.floor,
    "ceil": ew.ceil, "trunc": ew.trunc, "fix": ew.trunc, "frac": ew.frac, "sign": ew.sign,
    "sgn": ew.sgn, "round": ew.round, "clamp": ew.clamp, "clip": ew.clamp,
    "maximum": ew.maximum, "minimum": ew.minimum, "fmax": ew.fmax, "fmin": ew.fmin,
    "eq": ew.eq, "ne": ew.ne, "lt": ew.lt, "le": ew.le, "gt": ew.gt, "ge": ew.ge,
    "greater": ew.gt, "less": ew.lt, "greater_equal": ew.ge, "less_equal": ew.le,
    "not_equal": ew.ne, "logical_and": ew.logical_and, "logical_or": ew.logical_or,
    "logical_xor": ew.logical_xor, "logical_not": ew.logical_not,
    "bitwise_and": ew.bitwise_and, "bitwise_or": ew.bitwise_or, "bitwise_xor": ew.bitwise_xor,
    "bitwise_not": ew.bitwise_not, "isnan": ew.isnan, "isinf": ew.isinf,
    "isfinite": ew.isfinite, "nan_to_num": ew.nan_to_num, "lerp": ew.lerp,
    "addcmul": ew.addcmul, "addcdiv": ew.addcdiv, "atan2": ew.atan2, "arctan2": ew.atan2,
    "logaddexp": ew.logaddexp, "xlogy": ew.xlogy, "hypot": ew.hypot, "logit": ew.logit,
    "positive": ew.positive, "isclose": ew.isclose, "allclose": ew.allclose,
    "equal": ew.equal,
    # reductions
    "sum": rd.sum, "nansum": rd.nansum, "mean": rd.mean, "nanmean": rd.nanmean,
    "prod": rd.prod, "amax": rd.amax, "amin": rd.amin, "argmax": rd.argmax,
    "argmin": rd.argmin, "max": rd.max, "min": rd.min, "var": rd.var, "std": rd.std,
    "logsumexp": rd.logsumexp, "norm": rd.norm, "all": rd.all, "any": rd.any,
    "count_nonzero": rd.count_nonzero, "cumsum": rd.cumsum, "cumprod": rd.cumprod,
    "softmax": rd.softmax, "log_softmax": rd.log_softmax,
    # shape
    "reshape": sh.reshape, "view": sh.view, "flatten": sh.flatten, "unflatten": sh.unflatten,
    "permute": sh.permute, "transpose": sh.transpose, "swapaxes": sh.swapaxes,
    "swapdims": sh.transpose, "t": sh.t, "movedim": sh.movedim, "moveaxis": sh.movedim,
    "adjoint": sh.adjoint, "squeeze": sh.squeeze, "unsqueeze": sh.unsqueeze,
    "expand": sh.expand, "expand_as": sh.expand_as, "broadcast_to": sh.broadcast_to,
    "narrow": sh.narrow, "split": sh.split_method, "tensor_split": sh.tensor_split,
    "chunk": sh.chunk, "unbind": sh.unbind, "flip": sh.flip_method, "fliplr": sh.fliplr,
    "flipud": sh.flipud, "roll": sh.roll, "repeat": sh.repeat, "tile": sh.tile,
    "repeat_interleave": sh.repeat_interleave, "tril": sh.tril, "triu": sh.triu,
    "diagonal": sh.diagonal, "diag": sh.diag, "trace": sh.trace,
    # linalg
    "matmul": la.matmul, "mm": la.mm, "bmm": la.bmm, "mv": la.mv, "dot": la.dot,
    "inner": la.inner, "outer": la.outer, "ger": la.outer, "addmm": la.addmm,
    "baddbmm": la.baddbmm, "addmv": la.addmv,
    "det": dc.det, "logdet": dc.logdet, "slogdet": dc.slogdet, "inverse": dc.inverse,
    "pinverse": dc.pinverse, "cholesky": dc.cholesky, "cholesky_solve": dc.cholesky_solve,
    "cholesky_inverse": dc.cholesky_inverse, "qr": dc.qr, "svd": dc.svd,
    "matrix_power": dc.matrix_power, "matrix_exp": dc.matrix_exp, "cross": dc.cross,
    "vdot": dc.vdot, "addbmm": dc.addbmm, "addr": dc.addr, "kron": dc.kron,
    "triangular_solve": dc.triangular_solve,
    "lu": lu_ops.lu, "lu_solve": lu_ops.lu_solve,
    # removed in torch 1.9, kept as stubs that raise with the linalg replacement
    "lstsq": removed.lstsq_method, "solve": removed.solve_method, "eig": removed.eig_method,
    "symeig": removed.symeig_method,
    "geqrf": lam.geqrf, "orgqr": lam.orgqr, "ormqr": lam.ormqr,
    # indexing
    "gather": ix.gather, "scatter": ix.scatter, "scatter_add": ix.scatter_add,
    "index_select": ix.index_select, "index_add": ix.index_add, "index_put": ix.index_put,
    "take_along_dim": ix.take_along_dim, "take": ix.take, "masked_fill": ix.masked_fill,
    "masked_select": ix.masked_select, "nonzero": ix.nonzero, "argwhere": ix.argwhere,
    "sort": ix.sort, "argsort": ix.argsort, "msort": ix.msort, "topk": ix.topk,
    "kthvalue": ix.kthvalue, "median": ix.median, "unique": ix.unique,
    "unique_consecutive": ix.unique_consecutive, "bincount": ix.bincount,
}

_INPLACE = [
    "add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "expm1", "log", "log1p", "log2",
    "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tanh", "sigmoid", "relu", "erf",
    "floor", "ceil", "trunc", "frac", "sign", "round", "clamp", "clip", "remainder", "fmod",
    "masked_fill", "scatter", "scatter_add", "index_add", "index_put", "lerp", "addcmul",
    "addcdiv", "maximum", "minimum", "floor_divide", "nan_to_num", "tril", "triu",
    "logical_not", "logical_and", "logical_or", "bitwise_and", "bitwise_or",
    "true_divide", "multiply", "subtract", "divide", "atan2", "hypot",
    "addbmm", "addr",
]


def _install():
    for name, fn in _FUNCTIONAL.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name in _INPLACE:
        setattr(Tensor, name + "_", _inplace_method(name, _FUNCTIONAL[name]))
    for name in _deprecated.OPS:
        setattr(Tensor, name, _scalar_first_method(_FUNCTIONAL[name]))
    Tensor.clamp_min = lambda self, min: ew.clamp(self, min=min)  # noqa: A006
    Tensor.clamp_max = lambda self, max: ew.clamp(self, max=max)  # noqa: A006
    Tensor.clamp_min_ = lambda self, min: self.clamp_(min=min)  # noqa: A006
    Tensor.clamp_max_ = lambda self, max: self.clamp_(max=max)  # noqa: A006
    Tensor.var_mean = rd.var_mean
    Tensor.std_mean = rd.std_mean
    Tensor.softmin = rd.softmin
    for name, fn in {
        "to": to, "type_as": type_as, "type": type_, "cpu": cpu, "cuda": cuda,
        "clone": clone, "contiguous": contiguous, "is_contiguous": is_contiguous,
        "view_as": view_as, "reshape_as": reshape_as, "new_zeros": _new(0),
        "new_ones": _new(1), "new_empty": _new(None), "new_full": new_full,
        "new_tensor": new_tensor, "zero_": zero_, "fill_": fill_, "copy_": copy_,
        "set_": set_,
        "uniform_": _random_(_uniform, "uniform_"), "normal_": _random_(_normal, "normal_"),
        "bernoulli_": _random_(_bernoulli, "bernoulli_"),
        "random_": _random_(_random_int, "random_"),
        "exponential_": _random_(_exponential, "exponential_"),
        "cauchy_": _random_(_cauchy, "cauchy_"),
        "log_normal_": _random_(_log_normal, "log_normal_"),
        "geometric_": _random_(_geometric, "geometric_"),
        "bernoulli": lambda self, p=None, *, generator=None: _creation.bernoulli(
            self, p, generator=generator),
        "multinomial": _multinomial,
        "__getitem__": ix.getitem, "__setitem__": _setitem,
        "__add__": _binary_fast(ew.Add, ew.add), "__radd__": _binary_fast(ew.Add, ew.add),
        "__sub__": _binary_fast(ew.Sub, ew.sub), "__rsub__": _rsub,
        "__mul__": _binary_fast(ew.Mul, ew.mul),
        "__rmul__": _binary_fast(ew.Mul, ew.mul), "__truediv__": _truediv,
        "__rtruediv__": _rdiv, "__floordiv__": ew.floor_divide,
        "__rfloordiv__": _swap(ew.floor_divide), "__mod__": ew.remainder,
        "__rmod__": _swap(ew.remainder), "__pow__": ew.pow, "__rpow__": _rpow,
        "__matmul__": la.matmul, "__rmatmul__": _matmul_r, "__neg__": ew.neg,
        "__pos__": ew.positive, "__abs__": ew.abs, "__invert__": ew.bitwise_not,
        "__and__": ew.bitwise_and, "__rand__": _swap(ew.bitwise_and),
        "__or__": ew.bitwise_or, "__ror__": _swap(ew.bitwise_or),
        "__xor__": ew.bitwise_xor, "__rxor__": _swap(ew.bitwise_xor),
        "__eq__": _eq, "__ne__": _ne, "__lt__": ew.lt, "__le__": ew.le, "__gt__": ew.gt,
        "__ge__": ew.ge,
    }.items():
        setattr(Tensor, name, fn)
    for dt, names in ((_dtype.float32, ("float",)), (_dtype.float64, ("double",)),
                      (_dtype.float16, ("half",)), (_dtype.bfloat16, ("bfloat16",)),
                      (_dtype.int64, ("long",)), (_dtype.int32, ("int",)),
                      (_dtype.int16, ("short",)), (_dtype.int8, ("char",)),
                      (_dtype.uint8, ("byte",)), (_dtype.bool, ("bool",)),
                      (_dtype.complex64, ("cfloat",)), (_dtype.complex128, ("cdouble",))):
        for n in names:
            setattr(Tensor, n, _caster(dt))
    for op, name in (("__iadd__", "add_"), ("__isub__", "sub_"), ("__imul__", "mul_"),
                     ("__itruediv__", "div_"), ("__ipow__", "pow_"),
                     ("__ifloordiv__", "floor_divide_"), ("__imod__", "remainder_"),
                     ("__iand__", "bitwise_and_"), ("__ior__", "bitwise_or_")):
        setattr(Tensor, op, getattr(Tensor, name))
    Tensor.is_floating_point = lambda self: self.dtype.is_floating_point
    Tensor.get_device = lambda self: -1 if self._device.type == "cpu" else self._device.index
    Tensor.data_ptr = data_ptr
    Tensor.const_data_ptr = const_data_ptr
    Tensor.is_shared = is_shared
    Tensor.to_dense = to_dense
    Tensor.as_subclass = as_subclass
    Tensor.untyped_storage = _storage.untyped_storage
    Tensor.storage = _storage.storage
    Tensor.storage_type = _storage.storage_type
    Tensor.is_set_to = _storage.is_set_to
    Tensor.record_stream = _streams.record_stream
    Tensor.stride = _stride
    Tensor.storage_offset = sn.storage_offset
    Tensor.pin_memory = pin_memory
    Tensor.is_pinned = is_pinned
    Tensor.share_memory_ = share_memory_
    Tensor.apply_ = lambda self, fn: _apply_(self, fn)
    Tensor.map_ = lambda self, other, fn: _map_(self, other, fn)


def data_ptr(self):
    """The address of the tensor's first element (device memory for a device tensor).

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.zeros(4)
    >>> t[1:].data_ptr() - t.data_ptr() == t.element_size()
    True
    """
    return sn._ptr(self._data)


def const_data_ptr(self):
    """:meth:`data_ptr`, for code that only reads through it (PyTorch's read-only variant).

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.zeros(2)
    >>> t.const_data_ptr() == t.data_ptr()
    True
    """
    return data_ptr(self)


def share_memory_(self):
    """Move the storage into shared memory, so that processes this tensor is passed to
    (``flambeau.multiprocessing``: ``Process`` arguments, ``Queue``, ``Pool``, ``spawn``) map
    the same memory and see each other's in-place writes; returns ``self``.

    The tensor stays the same object with the same values; only the memory under it moves
    (``data_ptr()`` changes). The whole storage moves, as in PyTorch: its base and every view
    of it (taken before or after, and ``detach()`` aliases) see the shared memory. NumPy
    arrays from :meth:`numpy` keep the old memory, as in PyTorch. A no-op when the storage is
    already shared, and for tensors whose backend keeps them where they are (CUDA tensors, as
    in PyTorch). Sending a tensor to another process through ``flambeau.multiprocessing``
    (a ``Queue``, ``Process`` arguments under ``spawn``) calls this first, as PyTorch does. A
    shared storage cannot grow (see :meth:`resize_`); the memory is freed when no process
    uses it any more.

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.zeros(3)
    >>> t.share_memory_() is t, t.is_shared()
    (True, True)
    >>> t[1:].is_shared(), t.add_(1).tolist()
    (True, [1.0, 1.0, 1.0])
    >>> x = flambeau.zeros(2)
    >>> before = x[1:]  # a view taken before sharing moves with its storage
    >>> _ = x.share_memory_().add_(2)
    >>> before.is_shared(), before.tolist()
    (True, [2.0])
    """
    backend = self._device.backend
    if backend.is_shared(self._data):
        return self
    xp = self._device._xp
    st = sn._storage(self)
    raw = sn.storage_bytes(xp, st)
    shared = backend.share_memory(raw)
    if shared is None:
        return self
    from flambeau import _shared_memory

    start = sn._ptr(raw)
    for t in _storage_holders(self, start, raw.nbytes):
        a = t._data
        t._data = _shared_memory.view(shared, sn._ptr(a) - start, a.shape, a.strides, a.dtype,
                                      bool(a.flags.writeable))
    return self


def _local_refs():
    # what getrefcount reports for an object held by one local variable only (2 up to
    # CPython 3.13: the local and the call's argument; newer interpreters may borrow)
    obj = object()
    return sys.getrefcount(obj)


_LOCAL_REFS = _local_refs()


def _storage_holders(self, start, nbytes):
    """The tensors whose arrays lie in ``self``'s storage (``nbytes`` bytes from address
    ``start``): ``self``, its base, and every view and ``detach()`` alias of either.

    Those share ``self``'s version counter, so they are the tensors referring to it. Only a
    counter referred to by more than ``self`` and its base is looked for among the objects
    the garbage collector tracks (a scan of them all): a tensor with no views pays nothing,
    and no tensor keeps a list of its views, which would cost every view made.
    """
    owner = _storage.owner_of(self)
    holders = [self] if owner is self else [self, owner]
    counter = self._version_counter
    known = sum(t._version_counter is counter for t in holders)
    if sys.getrefcount(counter) <= known + _LOCAL_REFS:
        return holders
    end = start + nbytes
    for ref in gc.get_referrers(counter):
        if (isinstance(ref, Tensor) and ref._data.__class__ is self._data.__class__
                and all(ref is not t for t in holders)):
            ptr = sn._ptr(ref._data)
            span = sn._byte_span(ref._data)
            if (start <= ptr <= end if span is None
                    else start <= ptr + span[0] and ptr + span[1] <= end):
                holders.append(ref)
    return holders


def is_shared(self):
    """Whether the storage is in memory shared with other processes (see
    :meth:`share_memory_`).

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.zeros(2)
    >>> t.is_shared(), t.share_memory_().is_shared()
    (False, True)
    """
    return self._device.backend.is_shared(self._data)


def to_dense(self, dtype=None, *, masked_grad=None):
    """A strided tensor of ``self``: flambeau's tensors are all strided, so ``self`` (or a copy
    of dtype ``dtype``), as PyTorch does for strided tensors.

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.tensor([1, 2])
    >>> t.to_dense() is t, t.to_dense(flambeau.float32)
    (True, tensor([1., 2.]))
    """
    return self if dtype is None else to(self, dtype)


class _Alias(Function):
    """The identity as a view: :meth:`as_subclass`'s node (torch's AliasBackward0)."""

    _is_view = True

    def name(self):
        return "AliasBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._data

    @staticmethod
    def backward(ctx, g):
        return g


def as_subclass(self, cls):
    """``self`` as an instance of the Tensor subclass ``cls``: the same storage, and still in
    the autograd graph (a view of ``self``; PyTorch's ``AliasBackward0`` node).

    Examples
    --------
    >>> import flambeau
    >>> class Tagged(flambeau.Tensor):
    ...     pass
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> t = (x * 2).as_subclass(Tagged)
    >>> type(t).__name__, t.grad_fn.name()
    ('Tagged', 'AliasBackward0')
    >>> t.sum().backward(); x.grad
    tensor([2., 2.])
    """
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("as_subclass: creating a Tensor subclass from a class that does not "
                        f"inherit from Tensor is not possible (got {cls!r}). Make sure your "
                        "class inherits from Tensor.")
    alias = _Alias.apply(self)
    out = cls._make(alias._data, alias._device, alias._requires_grad)
    out._grad_fn, out._output_nr = alias._grad_fn, 0
    out._version_counter = alias._version_counter
    out._base, out._view_version = alias._base, alias._view_version
    return out


def _accelerator(device):
    from flambeau.backends import _registry

    name = "cuda" if device is None else str(device).split(":")[0]
    backend = _registry._loaded()[0].get(name)
    if backend is None or not hasattr(backend, "pin") or not backend.is_available():
        return None
    return backend


def _device_deprecated(method):
    warnings.warn(f"The argument 'device' of Tensor.{method}() is deprecated. Please do not "
                  "pass this argument.", DeprecationWarning, stacklevel=3)


def pin_memory(self, device=None):
    """A copy in page-locked host memory, for fast asynchronous copies to an accelerator.

    The accelerator's backend (CUDA's; ``device`` names another, deprecated as in PyTorch)
    pins the memory.

    Raises
    ------
    RuntimeError
        For a tensor that is not on the CPU, or on a machine without an accelerator, as
        PyTorch (a ``DataLoader(pin_memory=True)`` warns and does not pin there).

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.ones(2)
    >>> t = t.pin_memory() if flambeau.accelerator.is_available() else t
    >>> t.tolist()
    [1.0, 1.0]
    """
    if device is not None:
        _device_deprecated("pin_memory")
    if self._device.type != "cpu":
        raise RuntimeError(f"pin_memory: cannot pin a tensor on {self._device}; only CPU "
                           "tensors live in host memory")
    backend = _accelerator(device)
    if backend is None:
        raise RuntimeError("pin_memory: cannot access an accelerator device when none is "
                           "available: page-locked memory only speeds up copies to one (keep "
                           "the tensor as it is on a machine without a GPU)")
    pinned = backend.pin(self)
    return self if pinned is None else pinned


def is_pinned(self, device=None):
    """Whether the tensor is in page-locked memory (as told by the accelerator's backend).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ones(1).is_pinned()
    False
    """
    if device is not None:
        _device_deprecated("is_pinned")
    backend = _accelerator(device)
    check = getattr(backend, "is_pinned", None)
    return bool(check(self)) if check is not None else False


def _stride(self, dim=None):
    if self._data.size == 0:
        # NumPy gives an empty array zero strides; torch keeps the contiguous ones (each
        # dim's stride the product of the later sizes, a 0 counting as 1)
        strides, step = [], 1
        for n in reversed(self._data.shape):
            strides.append(step)
            step *= max(n, 1)
        strides = tuple(reversed(strides))
    else:
        item = self._data.dtype.itemsize
        strides = tuple(s // item for s in self._data.strides)
    return strides if dim is None else strides[dim]


def _apply_(self, fn):
    import numpy as np

    vec = np.vectorize(fn, otypes=[self._data.dtype])
    self._data[...] = vec(self._host())
    self._version_counter.value += 1
    return self


def _map_(self, other, fn):
    import numpy as np

    vec = np.vectorize(fn, otypes=[self._data.dtype])
    self._data[...] = vec(self._host(), other._host())
    self._version_counter.value += 1
    return self


# shape_more / indexing_more: their tables of Tensor methods and in-place variants
_FUNCTIONAL.update(shm.TENSOR_METHODS)
_FUNCTIONAL.update(ixm.TENSOR_METHODS)
_INPLACE += ixm.INPLACE_METHODS
# special / reduction_more: the same
_FUNCTIONAL.update(sp.TENSOR_METHODS)
_FUNCTIONAL.update(rdm.TENSOR_METHODS)
_INPLACE += sp.INPLACE + rdm.INPLACE
# special_more: igamma / igammac and their in-place variants
_FUNCTIONAL.update(spm.TENSOR_METHODS)
_INPLACE += ["igamma", "igammac"]
# complex: parts, conjugation, angle; tensor_more: small methods (queries, resize_...)
_FUNCTIONAL.update(cx.TENSOR_METHODS)
_FUNCTIONAL.update(tm.TENSOR_METHODS)
_INPLACE += tm.INPLACE
# strided_numeric: as_strided, as_strided_, as_strided_scatter, storage_offset
_FUNCTIONAL.update(sn.TENSOR_METHODS)
# spectral: stft / istft
_FUNCTIONAL.update(spc.TENSOR_METHODS)

_install()

"""PyTorch's smaller top-level names that old and device-agnostic scripts still use.

Constants (``pi``, ``e``, ``inf``, ``nan``, ``newaxis``), memory formats and layouts, and
the legacy typed constructors (``FloatTensor``, ``LongTensor``, ...).

Memory formats: flambeau keeps every tensor it creates in C (row-major) order. ``memory_format=``
is accepted wherever PyTorch takes it and checked as PyTorch checks it (type, rank), but
``channels_last`` does not change where the elements lie: ``x.contiguous(memory_format=
flambeau.channels_last)`` is C-contiguous. ``is_contiguous(memory_format=...)`` answers from
the tensor's actual strides, as PyTorch does, so it is true for a channels-last view (a permuted
C-contiguous tensor) and false for a tensor flambeau was asked to make channels-last.
"""

from __future__ import annotations

import builtins
import math
import warnings

from flambeau import _dtype

__all__ = [
    "pi", "e", "inf", "nan", "newaxis",
    "memory_format", "contiguous_format", "channels_last", "channels_last_3d",
    "preserve_format", "layout", "strided",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "set_default_tensor_type",
]

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None


# ------------------------------------------------------------------ memory formats, layouts


class memory_format:
    """How a tensor's elements are ordered in memory (PyTorch's ``torch.memory_format``).

    The four values are ``flambeau.contiguous_format``, ``flambeau.channels_last``,
    ``flambeau.channels_last_3d`` and ``flambeau.preserve_format``; new ones cannot be made.
    flambeau stores the tensors it creates in C order whatever format is asked for: see
    :meth:`flambeau.Tensor.is_contiguous` for what the formats still answer.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.channels_last
    flambeau.channels_last
    >>> isinstance(flambeau.preserve_format, flambeau.memory_format)
    True
    """

    __slots__ = ("_name", "_order")

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'flambeau.memory_format' instances")

    @classmethod
    def _make(cls, name, order):
        self = object.__new__(cls)
        self._name = name
        self._order = order  # dims from the fastest-varying out, None: not a stride order
        return self

    def __repr__(self):
        return f"flambeau.{self._name}"

    def __reduce__(self):
        return self._name


contiguous_format = memory_format._make("contiguous_format", None)
channels_last = memory_format._make("channels_last", (1, 3, 2, 0))
channels_last_3d = memory_format._make("channels_last_3d", (1, 4, 3, 2, 0))
preserve_format = memory_format._make("preserve_format", None)


class layout:
    """How a tensor's elements are stored (PyTorch's ``torch.layout``).

    flambeau has dense tensors only: ``flambeau.strided`` is the one layout, and the
    ``layout`` attribute of every tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2).layout
    flambeau.strided
    >>> flambeau.zeros(2, layout=flambeau.strided).shape
    flambeau.Size([2])
    """

    __slots__ = ("_name",)

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'flambeau.layout' instances")

    @classmethod
    def _make(cls, name):
        self = object.__new__(cls)
        self._name = name
        return self

    def __repr__(self):
        return f"flambeau.{self._name}"

    def __reduce__(self):
        return self._name


strided = layout._make("strided")


def check_layout(op, value) -> None:
    """``layout=`` of a creation function: None or ``flambeau.strided``."""
    if value is not None and value is not strided:
        what = value if isinstance(value, str) else type(value).__name__
        raise TypeError(f"{op}(): argument 'layout' must be flambeau.layout (only "
                        f"flambeau.strided: flambeau has dense tensors only), not {what}")


def check_memory_format(op, value, ndim, *, preserve=True, rank=True) -> None:
    """``memory_format=``: its type, and the rank the channels-last formats need."""
    if value is None:
        return
    if not isinstance(value, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be flambeau.memory_format, "
                        f"not {type(value).__name__}")
    if value is preserve_format and not preserve:
        raise RuntimeError(f"{op}(): unsupported memory format flambeau.preserve_format")
    if rank and value._order is not None and ndim != len(value._order):
        raise RuntimeError(f"{op}(): required rank {len(value._order)} tensor to use "
                           f"{value._name} format, got a rank {ndim} tensor")


def is_contiguous_as(shape, strides, fmt) -> bool:
    """Whether ``strides`` (in elements) lay ``shape`` out densely in ``fmt``'s dim order.

    Dims of size one are skipped, as in PyTorch; an empty tensor is contiguous in C order.
    """
    order = getattr(fmt, "_order", None)
    if order is None:
        if 0 in shape:
            return True
        order = tuple(builtins.range(len(shape) - 1, -1, -1))
    elif len(shape) != len(order):
        return False
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


# ------------------------------------------------------------------ legacy typed constructors


class _TensorType(type):
    """The metaclass of ``flambeau.FloatTensor`` and the other legacy typed constructors."""

    def __instancecheck__(cls, obj):
        from flambeau._tensor import Tensor

        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __subclasscheck__(cls, sub):
        return type.__subclasscheck__(cls, sub)

    def __call__(cls, *args, device=None, **kwargs):
        from flambeau import _creation
        from flambeau._tensor import Size, Tensor

        name = cls.__name__
        if kwargs:
            raise TypeError(f"{name}() got unexpected keyword arguments {sorted(kwargs)}: "
                            f"it takes the data or a size, and device=")
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"{name}(): legacy constructor expects device type: cpu but "
                               f"device type: {device} was passed; use "
                               f"flambeau.tensor(data, dtype=flambeau.{cls.dtype.name}, "
                               f"device=...)")
        if not args:
            return _creation.empty(0, dtype=cls.dtype)
        if builtins.all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool)
                        for a in args):
            return _creation.empty(*args, dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], Size):
            return _creation.empty(args[0], dtype=cls.dtype)
        if len(args) != 1:
            raise TypeError(f"{name}(): expected the data (a sequence) or a size (ints), got "
                            f"{tuple(type(a).__name__ for a in args)}")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype is not cls.dtype:
                raise TypeError(f"{name}(): expected a flambeau.{cls.dtype.name} tensor, got "
                                f"{data.dtype}; convert it with .to(flambeau.{cls.dtype.name})")
            return data.detach()
        if not hasattr(data, "__len__"):
            raise TypeError(f"{name}(): data must be a sequence (got {type(data).__name__})")
        return _creation.tensor(data, dtype=cls.dtype)


def _legacy(name, dt):
    doc = f"""Legacy constructor of CPU ``flambeau.{dt.name}`` tensors (PyTorch's
    ``torch.{name}``).

    ``{name}(data)`` makes a tensor from a sequence, ``{name}(*sizes)`` an uninitialised one of
    that shape, and ``isinstance(t, flambeau.{name})`` tells whether ``t`` is a CPU tensor of
    that dtype. New code should call ``flambeau.tensor(data, dtype=flambeau.{dt.name})``.

    Raises
    ------
    TypeError
        If the data is a scalar or a tensor of another dtype, or ``dtype=`` is given.
    RuntimeError
        If ``device=`` is not the CPU.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.{name}([1, 0]).dtype
    flambeau.{dt.name}
    >>> flambeau.{name}(2, 3).shape
    flambeau.Size([2, 3])
    >>> isinstance(flambeau.zeros(1, dtype=flambeau.{dt.name}), flambeau.{name})
    True
    """
    cls = _TensorType(name, (), {"__doc__": doc, "__module__": "flambeau", "__slots__": (),
                                 "dtype": dt, "is_cuda": False, "is_sparse": False})
    return cls


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", _dtype.bfloat16)
LongTensor = _legacy("LongTensor", _dtype.int64)
IntTensor = _legacy("IntTensor", _dtype.int32)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
CharTensor = _legacy("CharTensor", _dtype.int8)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
BoolTensor = _legacy("BoolTensor", _dtype.bool)

_LEGACY = {cls.__name__: cls for cls in (
    FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor,
    CharTensor, ByteTensor, BoolTensor)}


def tensortype(value, op):
    """A legacy type given as the class or its name (``"torch.FloatTensor"``), or None."""
    if isinstance(value, _TensorType):
        return value
    if isinstance(value, str):
        cls = _LEGACY.get(value.rsplit(".", 1)[-1])
        if cls is None or value.rsplit(".", 1)[0] not in ("torch", "flambeau"):
            raise ValueError(f"invalid type: {value!r}")
        return cls
    return None


def set_default_tensor_type(t) -> None:
    """Deprecated: set the default floating-point dtype from a legacy type.

    ``set_default_tensor_type(flambeau.DoubleTensor)`` (or ``"torch.DoubleTensor"``) is
    ``set_default_dtype(flambeau.float64)``; it warns as PyTorch does since 2.1.

    Raises
    ------
    TypeError
        If ``t`` is not a floating-point legacy type.
    ValueError
        If ``t`` is a string that names no legacy type.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flambeau.set_default_tensor_type(flambeau.DoubleTensor)
    >>> flambeau.tensor([1.5]).dtype
    flambeau.float64
    >>> flambeau.set_default_dtype(flambeau.float32)
    """
    warnings.warn("flambeau.set_default_tensor_type() is deprecated (as torch's is since "
                  "PyTorch 2.1), please use flambeau.set_default_dtype() and "
                  "flambeau.set_default_device() as alternatives.", UserWarning, stacklevel=2)
    cls = tensortype(t, "set_default_tensor_type")
    if cls is None or not cls.dtype.is_floating_point:
        raise TypeError("set_default_tensor_type(): only floating-point types are supported as "
                        f"the default type, got {t!r}")
    _dtype.set_default_dtype(cls.dtype)

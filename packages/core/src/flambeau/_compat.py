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
    "preserve_format", "layout", "strided", "sparse_coo", "sparse_csr", "sparse_csc",
    "sparse_bsr", "sparse_bsc",
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

    ``flambeau.strided`` is the layout of dense tensors, ``flambeau.sparse_coo`` that of
    sparse COO tensors (:func:`flambeau.sparse_coo_tensor`, :meth:`flambeau.Tensor.to_sparse`),
    ``flambeau.sparse_csr`` and ``flambeau.sparse_csc`` those of compressed sparse rows and
    columns (:func:`flambeau.sparse_csr_tensor`, :meth:`flambeau.Tensor.to_sparse_csr`).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2).layout
    flambeau.strided
    >>> flambeau.zeros(2, layout=flambeau.strided).shape
    flambeau.Size([2])
    >>> flambeau.eye(2).to_sparse().layout
    flambeau.sparse_coo
    >>> flambeau.eye(2).to_sparse_csr().layout
    flambeau.sparse_csr
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
sparse_coo = layout._make("sparse_coo")
sparse_csr = layout._make("sparse_csr")
sparse_csc = layout._make("sparse_csc")
sparse_bsr = layout._make("sparse_bsr")
sparse_bsc = layout._make("sparse_bsc")


def check_layout(op, value) -> None:
    """``layout=`` of a creation function: None or ``flambeau.strided``."""
    if value is not None and value is not strided:
        if value is sparse_coo:
            raise NotImplementedError(f"{op}(): layout=flambeau.sparse_coo is not supported "
                                      "by creation functions other than zeros, empty and "
                                      "zeros_like; make a sparse tensor with "
                                      "flambeau.sparse_coo_tensor() or Tensor.to_sparse()")
        what = value if isinstance(value, str) else type(value).__name__
        raise TypeError(f"{op}(): argument 'layout' must be flambeau.layout (only "
                        f"flambeau.strided or, for sparse tensors, flambeau.sparse_coo), not "
                        f"{what}")


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

#: dtype name -> legacy type name, shared by every device type (``flambeau.cuda.FloatTensor``)
TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
              "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
              "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
              "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
              "complex128": "ComplexDoubleTensor",
              # torch's limited-support dtypes: named (t.type()), not published, as in torch
              **{d.name: _dtype._SCALAR_TYPE_NAMES[d.name] + "Tensor"
                 for d in _dtype._BARE_UNSIGNED | _dtype._FLOAT8}}
# the complex types are not published (torch has no torch.ComplexFloatTensor), but their names
# work as in torch: t.type() == "flambeau.ComplexFloatTensor", t.type("torch.ComplexFloatTensor")


class _TensorType(type):
    """The metaclass of ``flambeau.FloatTensor``, ``flambeau.cuda.FloatTensor`` and the other
    legacy typed constructors: each stands for one (dtype, device type) pair."""

    def __instancecheck__(cls, obj):
        from flambeau._tensor import Tensor

        return (isinstance(obj, Tensor) and obj.dtype is cls.dtype
                and obj.device.type == cls.device_type)

    def __subclasscheck__(cls, sub):
        return type.__subclasscheck__(cls, sub)

    def __call__(cls, *args, device=None, **kwargs):
        from flambeau import _creation
        from flambeau._device import device as as_device
        from flambeau._tensor import Size, Tensor

        name, kind = cls.__name__, cls.device_type
        if kwargs:
            raise TypeError(f"{name}() got unexpected keyword arguments {sorted(kwargs)}: "
                            f"it takes the data or a size, and device=")
        if device is not None and as_device(device).type != kind:
            raise RuntimeError(f"{name}(): legacy constructor expects device type: {kind} but "
                               f"device type: {as_device(device).type} was passed; use "
                               f"flambeau.tensor(data, dtype=flambeau.{cls.dtype.name}, "
                               f"device=...)")
        # explicit even for the CPU: a legacy type names its device, whatever the default one
        options = dict(dtype=cls.dtype, device=kind if device is None else device)
        if not args:
            return _creation.empty(0, **options)
        if builtins.all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool)
                        for a in args):
            return _creation.empty(*args, **options)
        if len(args) == 1 and isinstance(args[0], Size):
            return _creation.empty(args[0], **options)
        if len(args) != 1:
            raise TypeError(f"{name}(): expected the data (a sequence) or a size (ints), got "
                            f"{tuple(type(a).__name__ for a in args)}")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype is not cls.dtype:
                raise TypeError(f"{name}(): expected a flambeau.{cls.dtype.name} tensor, got "
                                f"{data.dtype}; convert it with .to(flambeau.{cls.dtype.name})")
            if data.device.type != kind:
                raise TypeError(f"{name}(): expected a tensor on {kind}, got one on "
                                f"{data.device}; move it with .to('{kind}')")
            return data.detach()
        if not hasattr(data, "__len__"):
            raise TypeError(f"{name}(): data must be a sequence (got {type(data).__name__})")
        return _creation.tensor(data, **options)


_EXAMPLES = {
    "cpu": """
    >>> import flambeau
    >>> flambeau.{name}([1, 0]).dtype
    flambeau.{dtype}
    >>> flambeau.{name}(2, 3).shape
    flambeau.Size([2, 3])
    >>> isinstance(flambeau.zeros(1, dtype=flambeau.{dtype}), flambeau.{name})
    True
    """,
    # these run without a GPU: calling a CUDA type needs one
    "cuda": """
    >>> import flambeau
    >>> flambeau.cuda.{name}.dtype, flambeau.cuda.{name}.is_cuda
    (flambeau.{dtype}, True)
    >>> isinstance(flambeau.zeros(1, dtype=flambeau.{dtype}, device="cpu"), flambeau.cuda.{name})
    False
    >>> flambeau.cuda.{name} is not flambeau.{name}
    True
    """,
}


def _legacy(name, dt, device_type):
    cpu = device_type == "cpu"
    where = "CPU" if cpu else device_type.upper()
    module = "flambeau" if cpu else f"flambeau.{device_type}"
    place = "the CPU" if cpu else f"the current {where} device"
    on = "" if cpu else f', device="{device_type}"'
    unavailable = "" if cpu else f", or no {where} device can be used"
    doc = f"""Legacy constructor of {where} ``flambeau.{dt.name}`` tensors (PyTorch's
    ``{module.replace("flambeau", "torch")}.{name}``).

    ``{name}(data)`` makes a tensor on {place} from a sequence, ``{name}(*sizes)`` an
    uninitialised one of that shape, and ``isinstance(t, {module}.{name})`` tells whether
    ``t`` is a {where} tensor of that dtype; ``t.type({module}.{name})`` converts to it. New
    code should call ``flambeau.tensor(data, dtype=flambeau.{dt.name}{on})``.

    Raises
    ------
    TypeError
        If the data is a scalar or a tensor of another dtype or device, or ``dtype=`` is given.
    RuntimeError
        If ``device=`` is not a {where} device{unavailable}.

    Examples
    --------""" + _EXAMPLES[device_type].format(name=name, dtype=dt.name)
    return _TensorType(name, (), {
        "__doc__": doc, "__module__": module, "__slots__": (), "dtype": dt,
        "device_type": device_type, "is_cuda": device_type == "cuda", "is_sparse": False})


#: device type -> {type name: legacy type}
_LEGACY: dict = {}


def legacy_types(device_type: str) -> dict:
    """The legacy types of ``device_type`` ("cpu" or "cuda"), made once: ``flambeau.cuda``
    publishes the CUDA ones, and ``Tensor.type("torch.cuda.FloatTensor")`` finds the same."""
    return legacy_classes(_LEGACY, device_type, TYPE_NAMES, _legacy)


def legacy_classes(cache: dict, device_type: str, names: dict, make) -> dict:
    """``cache[device_type]``, made on first use as ``{name: make(name, dtype, device_type)}``
    over ``names`` (dtype name -> class name): the legacy tensor types and storages."""
    classes = cache.get(device_type)
    if classes is None:
        classes = cache[device_type] = {
            name: make(name, getattr(_dtype, dt), device_type) for dt, name in names.items()}
    return classes


_CPU = legacy_types("cpu")
FloatTensor = _CPU["FloatTensor"]
DoubleTensor = _CPU["DoubleTensor"]
HalfTensor = _CPU["HalfTensor"]
BFloat16Tensor = _CPU["BFloat16Tensor"]
LongTensor = _CPU["LongTensor"]
IntTensor = _CPU["IntTensor"]
ShortTensor = _CPU["ShortTensor"]
CharTensor = _CPU["CharTensor"]
ByteTensor = _CPU["ByteTensor"]
BoolTensor = _CPU["BoolTensor"]

#: the module prefixes a type name may carry ("torch.cuda.FloatTensor") -> device type
_PREFIXES = {"torch": "cpu", "flambeau": "cpu", "torch.cuda": "cuda", "flambeau.cuda": "cuda"}


def tensortype(value, op):
    """A legacy type given as the class or its name (``"torch.cuda.FloatTensor"``), or None."""
    if isinstance(value, _TensorType):
        return value
    if isinstance(value, str):
        prefix, _, name = value.rpartition(".")
        kind = _PREFIXES.get(prefix)
        cls = None if kind is None else legacy_types(kind).get(name)
        if cls is None:
            raise ValueError(f"invalid type: {value!r}")
        return cls
    return None


#: the default device that set_default_tensor_type() set from a CUDA type, to undo it later
_device_from_type = None


def set_default_tensor_type(t) -> None:
    """Deprecated: set the default floating-point dtype (and device) from a legacy type.

    ``set_default_tensor_type(flambeau.DoubleTensor)`` (or ``"torch.DoubleTensor"``) is
    ``set_default_dtype(flambeau.float64)``; it warns as PyTorch does since 2.1. A CUDA type
    (``flambeau.cuda.FloatTensor``) also makes CUDA the default device, as in PyTorch, and a
    CPU type given afterwards makes the CPU the default device again.

    Raises
    ------
    TypeError
        If ``t`` is not a floating-point legacy type.
    ValueError
        If ``t`` is a string that names no legacy type.
    RuntimeError
        If ``t`` is a CUDA type and no CUDA device can be used; nothing is changed then.

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
    global _device_from_type
    from flambeau import _defaults

    warnings.warn("flambeau.set_default_tensor_type() is deprecated (as torch's is since "
                  "PyTorch 2.1), please use flambeau.set_default_dtype() and "
                  "flambeau.set_default_device() as alternatives.", UserWarning, stacklevel=2)
    cls = tensortype(t, "set_default_tensor_type")
    if cls is None or not cls.dtype.is_floating_point:
        raise TypeError("set_default_tensor_type(): only floating-point types are supported as "
                        f"the default type, got {t!r}")
    if cls.device_type != "cpu":
        _defaults.set_default_device(cls.device_type)  # raises first when there is no device
        _device_from_type = _defaults.get_default_device()
    elif _device_from_type is not None:
        # only undo our own change: a device chosen with set_default_device() stays
        if _defaults.get_default_device() == _device_from_type:
            _defaults.set_default_device("cpu")
        _device_from_type = None
    _dtype.set_default_dtype(cls.dtype)

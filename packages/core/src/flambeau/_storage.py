"""Storages: the memory a tensor and its views share, as PyTorch's ``UntypedStorage`` (bytes)
and its deprecated ``TypedStorage`` (elements of one dtype).

``tensor.untyped_storage()`` covers the whole array the tensor is a view of (its
``storage_offset`` counts from its start), so two tensors share memory when their storages
have the same ``data_ptr()``; that is what code written for PyTorch asks storages for
(checkpoint writers that find tied weights, for one). A storage reads and writes through the
memory it describes; it does not own it apart from keeping it alive.

Examples
--------
>>> import flambeau
>>> x = flambeau.arange(6.0).reshape(2, 3)
>>> s = x[1].untyped_storage()
>>> s.data_ptr() == x.data_ptr(), s.nbytes()
(True, 24)
"""

from __future__ import annotations

import warnings

from flambeau import _dtype
from flambeau._ops.strided_numeric import _storage, _storage_in, storage_bytes

__all__ = ["TypedStorage", "UntypedStorage"]

#: dtype name -> the legacy storage class's name (torch's typed storages)
STORAGE_NAMES = {"float32": "FloatStorage", "float64": "DoubleStorage",
                 "float16": "HalfStorage", "bfloat16": "BFloat16Storage",
                 "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
                 "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
                 "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage"}


def owner_of(tensor):
    """The tensor whose memory ``tensor``'s storage is: its base when it is a view lying in
    the base's storage, else ``tensor`` itself."""
    base = tensor._base
    return base if base is not None and _storage_in(tensor, base) is not None else tensor


def _wrap(array, device):
    from flambeau._tensor import Tensor

    return Tensor._make(array, device)


class _Storage:
    """What both storages do through ``_elements()``, a tensor of their bytes or values:
    indexing, ``fill_``, ``tolist``, ``len()`` and the report. It is ``flambeau.types.Storage``
    (torch's ``torch.types.Storage``): the class both storages derive from.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.types import Storage
    >>> isinstance(flambeau.UntypedStorage(2), Storage)
    True
    """

    __slots__ = ()

    def _elements(self):
        raise NotImplementedError

    def _check(self, index):
        if not isinstance(index, int):
            raise TypeError(f"{type(self).__name__} indices must be ints, got "
                            f"{type(index).__name__}")
        return index

    @property
    def device(self):
        """The device holding the memory."""
        return self._elements().device

    def data_ptr(self) -> int:
        """The address of the first byte."""
        return self._elements().data_ptr()

    def __len__(self):
        return self.size()

    def __getitem__(self, index):
        return self._elements()[self._check(index)].item()

    def __setitem__(self, index, value):
        self._elements()[self._check(index)] = value

    def fill_(self, value):
        """Set every element to ``value``; returns this storage."""
        self._elements().fill_(value)
        return self

    def tolist(self) -> list:
        """The elements as a list of Python numbers."""
        return self._elements().tolist()

    def is_pinned(self, device="cuda") -> bool:
        """Whether the memory is page-locked host memory."""
        return self._elements().is_pinned()

    def __repr__(self):
        values = "".join(f" {v}\n" for v in self.tolist())
        return (f"{values}[flambeau.{type(self).__name__}({self._described()}) of size "
                f"{self.size()}]")


class UntypedStorage(_Storage):
    """Bytes of memory on a device, as PyTorch's ``torch.UntypedStorage``.

    ``UntypedStorage(nbytes, device=None)`` makes a new storage of ``nbytes`` zero bytes;
    :meth:`flambeau.Tensor.untyped_storage` gives the storage of a tensor. ``size()``,
    ``nbytes()`` and ``len()`` count bytes; indexing reads (and assignment writes) one byte
    as an int, through to every tensor viewing it; ``fill_``, ``tolist``, ``data_ptr``,
    ``is_pinned`` and ``cpu`` as PyTorch's.

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.tensor([1, 2], dtype=flambeau.int16)
    >>> s = t.untyped_storage()
    >>> len(s), s.tolist(), s[2]
    (4, [1, 0, 2, 0], 2)
    >>> flambeau.UntypedStorage(3).tolist()
    [0, 0, 0]
    """

    # ``_owner``: the tensor whose memory this is (the base of a view: the storage spans all
    # of the base's bytes). The bytes are found from it on use, so a storage follows its
    # tensor when that moves into shared memory, as PyTorch's storage object does.
    __slots__ = ("_owner", "_cached")

    def __init__(self, size=0, *, device=None):
        from flambeau import _creation

        self._owner = _creation.zeros(int(size), dtype=_dtype.uint8, device=device)
        self._cached = None

    @classmethod
    def _of(cls, tensor):
        storage = cls.__new__(cls)
        storage._owner, storage._cached = owner_of(tensor), None
        return storage

    @property
    def _bytes(self):
        """The bytes, a flat uint8 tensor viewing the owner's memory (made again when the
        owner's array has changed)."""
        owner = self._owner
        cached = self._cached
        if cached is None or cached[0] is not owner._data:
            raw = storage_bytes(owner._device._xp, _storage(owner))
            cached = self._cached = (owner._data, _wrap(raw, owner._device))
        return cached[1]

    def _elements(self):
        return self._bytes

    def _described(self):
        return f"device={self.device}"

    def nbytes(self) -> int:
        """The number of bytes."""
        return self._bytes.numel()

    size = nbytes

    def element_size(self) -> int:
        """1: the elements of an untyped storage are bytes."""
        return 1

    def cpu(self):
        """This storage if it is in host memory, else a copy there."""
        if self.device.type == "cpu":
            return self
        copy = type(self).__new__(type(self))
        copy._owner, copy._cached = self._bytes.cpu(), None
        return copy

    def untyped(self):
        """This storage."""
        return self

    def is_shared(self) -> bool:
        """Whether the memory is shared with other processes (see :meth:`share_memory_`).

        Examples
        --------
        >>> import flambeau
        >>> flambeau.UntypedStorage(2).is_shared()
        False
        """
        return self._owner.is_shared()

    def share_memory_(self):
        """Move the memory into shared memory, with the tensor it belongs to (see
        :meth:`flambeau.Tensor.share_memory_`); returns this storage.

        Examples
        --------
        >>> import flambeau
        >>> t = flambeau.zeros(2)
        >>> s = t.untyped_storage()
        >>> s.share_memory_() is s, s.is_shared(), t.is_shared()
        (True, True, True)
        """
        self._owner.share_memory_()
        return self

    def __eq__(self, other):
        return (isinstance(other, UntypedStorage) and self.data_ptr() == other.data_ptr()
                and self.nbytes() == other.nbytes() and self.device == other.device)

    def __hash__(self):
        return hash((self.data_ptr(), self.nbytes(), str(self.device)))


class TypedStorage(_Storage):
    """A storage read as elements of one dtype (PyTorch's deprecated ``TypedStorage``, what
    :meth:`flambeau.Tensor.storage` returns): ``size()`` and ``len()`` count elements and
    indexing reads (and assignment writes) one element; ``untyped()`` is the
    :class:`UntypedStorage` of the same bytes.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     s = flambeau.arange(4.0)[1:].storage()
    >>> s.dtype, s.size(), s[0], s.untyped().nbytes()
    (flambeau.float32, 4, 0.0, 16)
    """

    __slots__ = ("_untyped_storage", "dtype")

    def __init__(self, untyped, dtype):
        self._untyped_storage, self.dtype = untyped, dtype

    def _elements(self):
        untyped = self._untyped_storage._bytes
        return _wrap(untyped._data.view(self.dtype.np), untyped._device)

    def _described(self):
        return f"dtype={self.dtype}, device={self.device}"

    def nbytes(self) -> int:
        """The number of bytes."""
        return self._untyped_storage.nbytes()

    def element_size(self) -> int:
        """The size of one element in bytes."""
        return self.dtype.itemsize

    def size(self) -> int:
        """The number of elements."""
        return self.nbytes() // self.element_size()

    def untyped(self):
        """The :class:`UntypedStorage` of the same bytes."""
        return self._untyped_storage

    def is_shared(self) -> bool:
        """Whether the memory is shared with other processes (see :meth:`share_memory_`)."""
        return self._untyped_storage.is_shared()

    def share_memory_(self):
        """Move the memory into shared memory (:meth:`UntypedStorage.share_memory_`);
        returns this storage.

        Examples
        --------
        >>> import flambeau
        >>> s = flambeau.TypedStorage(flambeau.UntypedStorage(8), flambeau.float32)
        >>> s.share_memory_() is s, s.is_shared(), s.size()
        (True, True, 2)
        """
        self._untyped_storage.share_memory_()
        return self

    def cpu(self):
        """This storage if it is in host memory, else a copy there."""
        untyped = self._untyped_storage.cpu()
        return self if untyped is self._untyped_storage else TypedStorage(untyped, self.dtype)


def untyped_storage(self):
    """The :class:`~flambeau.UntypedStorage` of the memory this tensor shares with its base
    and views (all of the base's bytes).

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(4)
    >>> x[2:].untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    True
    """
    return UntypedStorage._of(self)


def storage(self):
    """The :class:`~flambeau.TypedStorage` of this tensor's memory, read as its dtype
    (deprecated in PyTorch, and warns as PyTorch does: use :meth:`untyped_storage`).

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flambeau.tensor([1.5, 2.5]).storage().tolist()
    [1.5, 2.5]
    """
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                  "UntypedStorage will be the only storage class. This should only matter to "
                  "you if you are using storages directly.  To access UntypedStorage "
                  "directly, use tensor.untyped_storage() instead of tensor.storage()",
                  UserWarning, stacklevel=2)
    return TypedStorage(UntypedStorage._of(self), self.dtype)


# ------------------------------------------------------------------ legacy typed storages
class _StorageType(type):
    """The metaclass of ``flambeau.FloatStorage``, ``flambeau.cuda.FloatStorage`` and the
    other legacy typed storages: each stands for one (dtype, device type) pair. Calling one
    makes a :class:`TypedStorage` (as in PyTorch, not an instance of the class itself), and
    ``isinstance(s, FloatStorage)`` holds for every ``TypedStorage`` of that pair."""

    def __instancecheck__(cls, obj):
        return (isinstance(obj, TypedStorage) and obj.dtype is cls.dtype
                and obj.device.type == cls.device_type)

    def __subclasscheck__(cls, sub):
        return type.__subclasscheck__(cls, sub)

    def __call__(cls, *args, wrap_storage=None, **kwargs):
        from flambeau import _creation

        name = cls.__name__
        if kwargs:
            raise RuntimeError(f"{name}(): unexpected keyword arguments {sorted(kwargs)}; it "
                               "takes no arguments, a size (int), a sequence of values or "
                               f"wrap_storage=UntypedStorage (the dtype is {cls.dtype} and "
                               f"the device {cls.device_type})")
        if wrap_storage is not None:
            if args:
                raise RuntimeError(f"{name}(): positional arguments cannot be given with "
                                   "wrap_storage=")
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError(f"{name}(): wrap_storage must be an UntypedStorage, got "
                                f"{type(wrap_storage).__name__}")
            if wrap_storage.device.type != cls.device_type:
                raise RuntimeError(f"{name}(): wrap_storage is on {wrap_storage.device}, "
                                   f"expected a {cls.device_type} storage")
            return TypedStorage(wrap_storage, cls.dtype)
        if len(args) > 1:
            raise RuntimeError(f"{name}(): too many positional arguments ({len(args)}); it "
                               "takes a size (int) or a sequence of values")
        arg = args[0] if args else 0
        if isinstance(arg, int) and not isinstance(arg, bool):
            values = _creation.zeros(arg, dtype=cls.dtype, device=cls.device_type)
        elif isinstance(arg, (list, tuple, range)):
            values = _creation.tensor(arg, dtype=cls.dtype, device=cls.device_type)
        else:
            raise TypeError(f"{name}(): expected a size (int) or a sequence of values, got "
                            f"{type(arg).__name__}")
        return TypedStorage(UntypedStorage._of(values), cls.dtype)


_STORAGE_EXAMPLES = {
    "cpu": """
    >>> import flambeau
    >>> s = flambeau.{name}([1, 0])
    >>> s.dtype, s.size(), isinstance(s, flambeau.{name})
    (flambeau.{dtype}, 2, True)
    >>> flambeau.zeros(1, dtype=flambeau.{dtype}, device="cpu").storage_type()
    <class 'flambeau.{name}'>
    """,
    # these run without a GPU: making a CUDA storage needs one
    "cuda": """
    >>> import flambeau
    >>> flambeau.cuda.{name}.dtype, flambeau.cuda.{name}.is_cuda
    (flambeau.{dtype}, True)
    >>> flambeau.cuda.{name} is not flambeau.{name}
    True
    """,
}


def _legacy_storage(name, dt, device_type):
    cpu = device_type == "cpu"
    where = "CPU" if cpu else device_type.upper()
    module = "flambeau" if cpu else f"flambeau.{device_type}"
    doc = f"""Legacy typed storage of {where} ``flambeau.{dt.name}`` elements (PyTorch's
    ``{module.replace("flambeau", "torch")}.{name}``).

    ``{name}()`` makes an empty :class:`~flambeau.TypedStorage`, ``{name}(size)`` one of
    ``size`` zeros, ``{name}(sequence)`` one holding those values and
    ``{name}(wrap_storage=untyped)`` reads an :class:`~flambeau.UntypedStorage`'s bytes as
    ``{dt.name}``. What it returns is a ``TypedStorage`` (as in PyTorch); ``isinstance(s,
    {module}.{name})`` tells whether ``s`` holds {where} ``{dt.name}`` elements, and
    :meth:`flambeau.Tensor.storage_type` gives the class of a tensor's storage.

    Raises
    ------
    TypeError
        If the argument is neither a size nor a sequence, or ``wrap_storage`` is not an
        ``UntypedStorage``.
    RuntimeError
        If ``dtype=`` or ``device=`` is given (the class fixes both), for more than one
        positional argument, or when the device cannot be used.

    Examples
    --------""" + _STORAGE_EXAMPLES[device_type].format(name=name, dtype=dt.name)
    return _StorageType(name, (TypedStorage,), {
        "__doc__": doc, "__module__": module, "__slots__": (), "dtype": dt,
        "device_type": device_type, "is_cuda": device_type == "cuda", "is_sparse": False})


#: device type -> {class name: legacy storage class}
_LEGACY: dict = {}


def legacy_storages(device_type: str) -> dict:
    """The legacy storage classes of ``device_type`` ("cpu" or "cuda"), made once, so that
    ``flambeau.cuda.FloatStorage`` and ``Tensor.storage_type()`` give the same class."""
    from flambeau._compat import legacy_classes

    return legacy_classes(_LEGACY, device_type, STORAGE_NAMES, _legacy_storage)


_CPU = legacy_storages("cpu")
FloatStorage = _CPU["FloatStorage"]
DoubleStorage = _CPU["DoubleStorage"]
HalfStorage = _CPU["HalfStorage"]
BFloat16Storage = _CPU["BFloat16Storage"]
LongStorage = _CPU["LongStorage"]
IntStorage = _CPU["IntStorage"]
ShortStorage = _CPU["ShortStorage"]
CharStorage = _CPU["CharStorage"]
ByteStorage = _CPU["ByteStorage"]
BoolStorage = _CPU["BoolStorage"]
ComplexFloatStorage = _CPU["ComplexFloatStorage"]
ComplexDoubleStorage = _CPU["ComplexDoubleStorage"]
Storage = FloatStorage  # torch.Storage is torch.FloatStorage


def storage_type(self):
    """The legacy storage class of this tensor's dtype and device (``flambeau.FloatStorage``
    for a CPU float32 tensor), or None where there is none, as in PyTorch.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, dtype=flambeau.int64, device="cpu").storage_type()
    <class 'flambeau.LongStorage'>
    >>> flambeau.zeros(2, dtype=flambeau.uint16, device="cpu").storage_type() is None
    True
    """
    device_type = self.device.type
    if device_type not in ("cpu", "cuda"):
        return None
    return legacy_storages(device_type).get(STORAGE_NAMES.get(self.dtype.name))


def is_set_to(self, tensor) -> bool:
    """Whether ``self`` and ``tensor`` are the same view of the same memory: one storage, and
    the same storage offset, shape and strides (as PyTorch's ``Tensor.is_set_to``).

    Raises
    ------
    TypeError
        If ``tensor`` is not a tensor.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.zeros(3)
    >>> x.is_set_to(x[:]), x.is_set_to(x.clone()), x.view(1, 3).is_set_to(x)
    (True, False, False)
    """
    from flambeau._ops._util import need_tensor

    need_tensor("is_set_to", tensor, "tensor")
    return (self.device == tensor.device and self.shape == tensor.shape
            and self.stride() == tensor.stride()
            and self.storage_offset() == tensor.storage_offset()
            and UntypedStorage._of(self) == UntypedStorage._of(tensor))

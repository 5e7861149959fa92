"""Tensor creation: from data, filled, ranges, and random draws."""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from flambeau import _compat, _dlpack, _dtype, _keywords, _random, _sparse
from flambeau._device import canonical
from flambeau._ops._util import (
    check_scalar_int,
    dressed_as,
    fill_int,
    int_bounds,
    int_overflow,
    refuse_grad,
    wrapped_int,
    write_out,
)
from flambeau._tensor import Tensor

# ------------------------------------------------------------------ helpers


def _fills_out(fn):
    """Give a creation function torch's ``out=``: the new values land in ``out``, in its
    dtype (a creation function fills ``out`` rather than checking it; a ``dtype`` given
    too must be out's) and on its device; ``out`` is resized to the new shape, and
    ``requires_grad=True`` makes it require grad."""

    @_keywords.retrying
    def create(*args, out=None, **kwargs):
        if out is None:
            try:
                return fn(*args, **kwargs)
            except TypeError:  # torch's keyword form of the sizes: zeros(size=(2, 3))
                return _keywords.retry(fn, args, kwargs)
        _check_out_dtype(kwargs.get("dtype"), out)
        requires_grad = kwargs.pop("requires_grad", False)
        kwargs.pop("pin_memory", None)  # out's memory is what it is, as in PyTorch
        if kwargs.get("device") is None:
            kwargs["device"] = out.device
        try:
            result = fn(*args, **kwargs)
        except TypeError:
            result = _keywords.retry(fn, args, kwargs)
        if result._data.dtype != out._data.dtype:
            result = result.to(out.dtype)
        return _into_out(result, out, fn.__name__, requires_grad)

    return dressed_as(fn, create)


def _check_out_dtype(dtype, out):
    """PyTorch's error for a creation function given a ``dtype`` other than its out's."""
    if dtype is not None and _dtype.to_dtype(dtype) != out.dtype:
        from flambeau._ops.shape import _SCALAR_NAMES as names

        want, have = _dtype.to_dtype(dtype).name, out.dtype.name
        raise RuntimeError(f"dtype {names.get(want, want)} does not match dtype of out "
                           f"parameter ({names.get(have, have)})")


def _into_out(result, out, op, requires_grad):
    """``out`` holding a created ``result`` (which does not require grad), then requiring
    grad if asked, as PyTorch's creation functions do with ``out=``."""
    write_out(result, out, op=op)
    return out.requires_grad_(True) if requires_grad else out


def _finish(array, dev, requires_grad, pin_memory=False, op=None):
    """Wrap a host or device array for device ``dev`` (in page-locked memory for
    ``pin_memory=True``, see :func:`pinned`; ``op`` names the creation function in errors)."""
    backend = dev.backend
    if isinstance(array, np.ndarray) and dev.type != "cpu":
        array = backend.from_host(array, dev.index)
    t = Tensor._make(array, dev)
    if pin_memory:
        t = pinned(t, pin_memory, op)
    if requires_grad:
        t.requires_grad_(True)
    return t


def pinned(t, pin_memory, op):
    """``t``, a tensor the creation function ``op`` just made, in page-locked host memory
    when ``pin_memory`` is True (PyTorch's ``pin_memory=True``), pinned by the accelerator's
    backend as :meth:`Tensor.pin_memory` pins; ``t`` itself for False or None.

    Raises
    ------
    TypeError
        If ``pin_memory`` is not a bool (or None).
    RuntimeError
        For a tensor that is not on the CPU (only host memory can be pinned), or where no
        accelerator backend can pin memory (a CPU-only install), as PyTorch without one.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._creation import pinned
    >>> t = flambeau.ones(2)
    >>> pinned(t, False, "ones") is t
    True
    >>> if not flambeau.accelerator.is_available():
    ...     pinned(t, True, "ones")
    Traceback (most recent call last):
    ...
    RuntimeError: ones(): pin_memory=True requires a CUDA or other accelerator backend; ...
    """
    if pin_memory is None or pin_memory is False:
        return t
    if pin_memory.__class__ is not bool:
        raise TypeError(f"{op}(): argument 'pin_memory' must be bool, not "
                        f"{type(pin_memory).__name__}")
    if t._device.type != "cpu":
        raise RuntimeError(f"{op}(): only dense CPU tensors can be pinned, got pin_memory=True "
                           f"with device {t._device} (pin host tensors, then copy them there)")
    from flambeau import _methods

    backend = _methods._accelerator(None)
    if backend is None:
        raise RuntimeError(f"{op}(): pin_memory=True requires a CUDA or other accelerator "
                           "backend; no pinned memory allocator is available on this system "
                           "(leave pin_memory=False on a machine without a GPU)")
    result = backend.pin(t.detach())
    return result.requires_grad_(True) if t.requires_grad else result


def _size_args(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif len(size) == 1 and hasattr(size[0], "__iter__") and not isinstance(size[0], Tensor):
        size = tuple(size[0])
    try:
        out = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): size must be a sequence of ints, got {size!r}") from None
    for s in out:
        if s < 0:
            raise RuntimeError(
                f"{op}(): Trying to create tensor with negative dimension {s}: {list(out)}"
            )
    return out


def _np_dtype(dtype, default=None):
    if dtype is None:
        return (default or _dtype.get_default_dtype()).np
    return _dtype.to_dtype(dtype).np


#: the C++ type names PyTorch's messages give a dtype ("value cannot be converted to type ...")
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "int64_t", "int32": "int",
              "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t", "bool": "bool",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
#: the scalar type names of PyTorch's "not implemented for 'ComplexFloat'" messages
_SCALAR_NAMES = {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def scalar_for(value, dtype):
    """``value`` as a fill value for a tensor of ``dtype``, checked as PyTorch checks it.

    A complex number fills a real tensor only when its imaginary part is zero (its real part
    is used; a bool tensor takes its truth); otherwise PyTorch's RuntimeError. Other values
    are returned unchanged.

    Raises
    ------
    RuntimeError
        When a complex ``value`` with a non-zero (or NaN) imaginary part meets a real dtype.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau._creation import scalar_for
    >>> scalar_for(2 + 0j, flambeau.float32), scalar_for(1j, flambeau.complex64)
    (2.0, 1j)
    >>> scalar_for(1j, flambeau.float32)
    Traceback (most recent call last):
    ...
    RuntimeError: value cannot be converted to type float without overflow
    """
    if not isinstance(value, (complex, np.complexfloating)):
        return value
    dtype = _dtype.to_dtype(dtype)
    if dtype.is_complex:
        return value
    if dtype is _dtype.bool:
        return builtins.bool(value)
    if value.imag != 0 or value.imag != value.imag:
        raise RuntimeError(f"value cannot be converted to type {_CPP_NAMES[dtype.name]} "
                           "without overflow")
    return value.real


def _no_complex(op, dtype):
    """PyTorch's NotImplementedError of a kernel (``op``) with no complex (nor float8)
    version."""
    if dtype is not None and _dtype.to_dtype(dtype).is_complex:
        name = _SCALAR_NAMES[_dtype.to_dtype(dtype).name]
        raise NotImplementedError(f'"{op}" not implemented for \'{name}\'')
    if dtype is not None:
        _dtype.refuse_float8(op, _dtype.to_dtype(dtype))


def _ragged_error(data):
    """Describe where a nested list is ragged, as PyTorch does."""
    def walk(obj, dim):
        if isinstance(obj, (list, tuple)):
            lengths = {len(x) if isinstance(x, (list, tuple)) else None for x in obj}
            if len(lengths) > 1:
                first = len(obj[0]) if isinstance(obj[0], (list, tuple)) else None
                for x in obj:
                    got = len(x) if isinstance(x, (list, tuple)) else None
                    if got != first:
                        return (f"expected sequence of length {first} at dim {dim + 1} "
                                f"(got {got})")
            for x in obj:
                msg = walk(x, dim + 1)
                if msg:
                    return msg
        return None

    detail = walk(data, 0) or "nested sequences have different lengths"
    return ValueError(f"tensor(): ragged nested sequence: {detail}")


class IntOverflowError(ValueError):
    """A Python int that no integer dtype of flambeau holds (torch's ValueError)."""


def _has_huge_int(data):
    """Whether ``data`` (a number or nested lists) holds an int outside int64's range."""
    values = _flat(data) if isinstance(data, (list, tuple)) else (data,)
    return any(v.__class__ is int and not -2 ** 63 <= v < 2 ** 63 for v in values)


def _uint64_array(data):
    """uint64 data (a number or nested lists) as torch takes it: ints from 0 to 2**64 - 1
    (beyond int64's range too, which NumPy alone would round through float64), and torch's
    OverflowError for a negative or larger int (the smaller unsigned dtypes wrap negatives,
    uint64 does not); None when no int needs this (the ordinary path then)."""
    values = _flat(data) if isinstance(data, (list, tuple)) else (data,)
    ints = [v for v in values if v.__class__ is int]
    if not ints or 0 <= min(ints) and max(ints) < 2 ** 63:
        return None
    if min(ints) < 0:
        raise OverflowError("tensor(): can't convert negative int to unsigned (uint64)")
    if max(ints) >= 2 ** 64:
        raise OverflowError("tensor(): int too big to convert to uint64 (at most 2**64 - 1)")
    return np.asarray(data, dtype=object).astype(np.uint64)


def _checked_ints(arr, data, dtype):
    """``arr`` (built from the Python numbers ``data``) checked for the integer ``dtype`` as
    torch checks each number: torch's RuntimeError for a float out of the range (or NaN, an
    infinity) or an int beyond it, except that the negative ints down to ``-max`` wrap into
    an unsigned dtype (``-1`` is 255 in uint8), as they do when no float is with them. It
    runs on every small tensor made with an integer dtype, so it reads ``arr`` once, in
    Python for a few numbers (cheaper than NumPy's min and max)."""
    kind = arr.dtype.kind
    if kind == "i":
        lo, hi = _INT_FITS[dtype]
        if lo is None:  # int64, uint64: every int64 fits
            return arr
    elif kind == "f":
        if dtype is _dtype.uint64:
            raise TypeError("tensor(): an integer is required: uint64 tensors take Python "
                            "ints only, as torch's")
        lo, hi = _FLOAT_FITS[dtype]
    else:
        return arr
    if not arr.ndim:  # one number (tensor(3, dtype=...)): no array read
        if lo <= arr.item() <= hi:  # False for NaN
            return arr
    elif not arr.size:
        return arr
    elif arr.size > 64:
        if lo <= arr.min() and arr.max() <= hi:  # False for NaN
            return arr
    elif kind == "i":
        values = arr.ravel().tolist()
        if lo <= min(values) and max(values) <= hi:
            return arr
    elif all(lo <= v <= hi for v in arr.ravel().tolist()):  # False for NaN
        return arr
    if kind == "f" and isinstance(data, (list, tuple)):
        # ints among the floats: each number by the rule of its own type
        values = [v.item() if isinstance(v, np.generic) else v for v in _flat(data)]
        ints, floats = int_bounds(dtype.np, int), int_bounds(dtype.np, float)
        if all((ints if isinstance(v, int) else floats)[0] <= v
               <= (ints if isinstance(v, int) else floats)[1] for v in values):
            return np.array([wrapped_int(v, dtype.np) for v in values],
                            dtype=np.float64).reshape(arr.shape)
    raise int_overflow(dtype.np, dtype.name)


#: the Python ints each integer dtype takes (None: all of int64's)
_INT_FITS = {d: (None, None) if d in (_dtype.int64, _dtype.uint64) else int_bounds(d.np, int)
             for d in _dtype.ALL_DTYPES if d.category == _dtype._INT}
#: the Python floats each integer dtype takes
_FLOAT_FITS = {d: int_bounds(d.np, float) for d in _INT_FITS}


def _infer_array(data, exact=False):
    """A NumPy array from Python data, with PyTorch's dtype inference.

    ``exact`` keeps Python floats in float64 (NumPy's own inference) for a caller that casts
    to a dtype of its own: going through the default float32 first would round
    ``tensor([0.1], dtype=float64)`` to 0.10000000149.
    """
    if isinstance(data, Tensor):
        return data._host()
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _tensors_to_values(data)
    try:
        arr = np.asarray(data)
    except ValueError:
        raise _ragged_error(data) from None
    if (arr.dtype.kind == "u" or arr.dtype == object) and not isinstance(data, np.generic) \
            and _has_huge_int(data):
        # NumPy makes 2**63 uint64 (which int64 wraps to -2**63) and 2**64 an object
        raise IntOverflowError("tensor(): Overflow when unpacking long long: a Python int "
                               "outside int64's range; pass a floating-point dtype to store "
                               "it rounded")
    if arr.dtype == object:
        if isinstance(data, (list, tuple)):
            raise _ragged_error(data)
        raise TypeError(f"tensor(): can't convert {type(data).__name__} to a tensor")
    kind = arr.dtype.kind
    if kind == "f" and not isinstance(data, np.generic):
        if not exact:
            arr = arr.astype(_dtype.get_default_dtype().np)
    elif kind in "iu" and not isinstance(data, np.generic):
        arr = arr.astype(np.int64)
    elif kind == "c" and not isinstance(data, np.generic):
        if not exact:  # Python complex numbers: the default float dtype's complex type
            arr = arr.astype(_dtype.get_default_dtype().to_complex().np)
    elif kind not in "biufc" and arr.dtype not in _dtype._FROM_NUMPY:
        raise TypeError(f"tensor(): unsupported data of dtype {arr.dtype}")
    return arr


def _cast(arr, np_dtype, copy=True):
    """``arr.astype(np_dtype)``; complex to real keeps the real part with PyTorch's warning
    (NumPy's own ComplexWarning would name NumPy)."""
    np_dtype = np.dtype(np_dtype)
    if arr.dtype.kind == "c" and np_dtype.kind not in "cb":
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning,
                      stacklevel=3)
        arr = arr.real
    if np_dtype in _dtype.CAST_FIXED or arr.dtype in _dtype.CAST_FIXED:
        return _dtype.cast(arr, np_dtype)
    return arr.astype(np_dtype, copy=copy)


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _tensors_to_values(data):
    if isinstance(data, Tensor):
        return data._host() if data.ndim else data.item()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_values(x) for x in data]
    return data


# ------------------------------------------------------------------ from data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays).

    Python floats become the default float dtype, ints int64, bools bool.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.tensor([[1, 2], [3, 4]]).dtype, flambeau.tensor([1.5]).dtype
    (flambeau.int64, flambeau.float32)
    >>> try:
    ...     flambeau.tensor([[1, 2], [3]])
    ... except ValueError as e:
    ...     print(e)
    tensor(): ragged nested sequence: expected sequence of length 2 at dim 1 (got 1)
    """
    dev = canonical(device if device is not None else
                    (data.device if isinstance(data, Tensor) else None))
    if isinstance(data, Tensor) and data._device is dev:
        arr = data._data.copy()
        if dtype is not None:
            arr = _cast(arr, _dtype.to_dtype(dtype).np)
        out = pinned(Tensor._make(arr, dev), pin_memory, "tensor")
        return out.requires_grad_(True) if requires_grad else out
    try:
        arr = None
        if dtype is not None and _dtype.to_dtype(dtype) is _dtype.uint64 and isinstance(
                data, (list, tuple, int)):
            arr = _uint64_array(data)
        if arr is None:
            arr = _infer_array(data, exact=dtype is not None)
    except IntOverflowError:
        if dtype is None or not (_dtype.to_dtype(dtype).is_floating_point
                                 or _dtype.to_dtype(dtype).is_complex):
            raise
        arr = np.asarray(data, dtype=np.float64)  # huge ints rounded, as torch stores them
    if dtype is not None:
        dtype = _dtype.to_dtype(dtype)
        if arr.dtype.kind == "c" and not dtype.is_complex and dtype is not _dtype.bool \
                and not isinstance(data, (np.ndarray, np.generic, Tensor)):
            # Python complex numbers, as torch: a NumPy array or a tensor is cast instead
            raise TypeError("tensor(): must be real number, not complex" if
                            dtype.is_floating_point else
                            "tensor(): 'complex' object cannot be interpreted as an integer")
        if dtype.category == _dtype._INT and not isinstance(data, (np.ndarray, Tensor)):
            arr = _checked_ints(arr, data, dtype)  # Python numbers; an array's cast wraps
        arr = _cast(arr, dtype.np)
    else:
        arr = arr.copy() if isinstance(data, np.ndarray) else arr
        _dtype.from_numpy_dtype(arr.dtype)  # reject unsupported NumPy dtypes clearly
    if arr.base is not None or not arr.flags.writeable:
        arr = arr.copy()
    return _finish(arr, dev, requires_grad, pin_memory, "tensor")


def as_tensor(data, *, dtype=None, device=None):
    """A tensor sharing memory with ``data`` when possible (NumPy arrays, tensors).

    Examples
    --------
    >>> import flambeau, numpy
    >>> a = numpy.zeros(2, dtype="float32")
    >>> t = flambeau.as_tensor(a); a[0] = 1
    >>> t
    tensor([1., 0.])
    """
    if isinstance(data, Tensor):
        out = data
        if dtype is not None:
            out = out.to(dtype)
        if device is not None:
            out = out.to(device)
        return out
    dev = canonical(device)
    if dev.type == "cpu" and isinstance(data, np.ndarray):
        dev.backend
        arr = data if dtype is None else _cast(data, _dtype.to_dtype(dtype).np, copy=False)
        _dtype.from_numpy_dtype(arr.dtype)
        return Tensor._make(arr, dev)
    if hasattr(data, "__dlpack__") and not isinstance(data, np.ndarray):
        out = from_dlpack(data)
        return as_tensor(out, dtype=dtype, device=device)
    return tensor(data, dtype=dtype, device=dev)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """A tensor of ``obj`` (a tensor, a NumPy array, a DLPack object, a number or a nested
    sequence), sharing its memory when it can, as torch's: ``copy=True`` always copies,
    ``copy=False`` never does (a ValueError where the memory cannot be shared); the result
    requires grad as ``obj`` does unless ``requires_grad`` says otherwise.

    Raises
    ------
    ValueError
        With ``copy=False``, for a sequence or a number, or another dtype or device.

    Examples
    --------
    >>> import flambeau, numpy
    >>> a = numpy.zeros(2, dtype="float32")
    >>> shared, copied = flambeau.asarray(a), flambeau.asarray(a, copy=True)
    >>> a[0] = 1
    >>> shared, copied
    (tensor([1., 0.]), tensor([0., 0.]))
    >>> flambeau.asarray([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    >>> flambeau.asarray(a, dtype=flambeau.float64, copy=False)
    Traceback (most recent call last):
    ...
    ValueError: can't alias tensor with dtype 'Float' into dtype 'Double'.
    """
    if copy is False:
        out = _aliased(obj, dtype, device)
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy:
            out = out.detach().clone()
    if requires_grad is None:
        requires_grad = isinstance(obj, Tensor) and obj.requires_grad
    if out.requires_grad != requires_grad:
        # obj itself, or its conversion (to another dtype or device) that autograd recorded:
        # only a leaf of its own takes a new requires_grad
        out = out.detach() if out is obj or out.grad_fn is not None else out
        out.requires_grad_(requires_grad)
    return out


def _aliased(obj, dtype, device):
    """``obj`` as a tensor sharing its memory (``asarray(copy=False)``), or torch's
    ValueError."""
    from flambeau._ops.shape import _SCALAR_NAMES

    if not isinstance(obj, (Tensor, np.ndarray)) and not hasattr(obj, "__dlpack__"):
        raise ValueError("can't alias arbitrary sequence into a tensor.")
    out = as_tensor(obj)
    if dtype is not None and _dtype.to_dtype(dtype) != out.dtype:
        have, want = out.dtype.name, _dtype.to_dtype(dtype).name
        raise ValueError(f"can't alias tensor with dtype '{_SCALAR_NAMES.get(have, have)}' "
                         f"into dtype '{_SCALAR_NAMES.get(want, want)}'.")
    if device is not None and canonical(device) is not out._device:
        raise ValueError(f"can't alias tensor from device '{out.device}' to "
                         f"'{canonical(device)}'.")
    return out


def from_numpy(ndarray):
    """A CPU tensor sharing memory with a NumPy array.

    Examples
    --------
    >>> import flambeau, numpy
    >>> a = numpy.arange(3)
    >>> t = flambeau.from_numpy(a); t[0] = 7
    >>> a
    array([7, 1, 2])
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    dev = canonical("cpu")
    dev.backend  # binds the backend (and its array type) before the first tensor wraps
    return Tensor._make(ndarray, dev)


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing memory with any object that supports DLPack (NumPy, CuPy, PyTorch).

    ``ext_tensor`` is an object with ``__dlpack__`` or, as in PyTorch, a DLPack capsule (from
    :func:`flambeau.to_dlpack`, ``torch.to_dlpack``...), which can be consumed once. As
    torch's, ``device`` moves the result (a copy) and ``copy=True`` copies it; ``copy=False``
    refuses to move it.

    Raises
    ------
    TypeError
        If ``ext_tensor`` is neither.
    RuntimeError
        If the capsule was already consumed, or its device type has no flambeau backend.
    ValueError
        For ``copy=False`` with another ``device``.

    Examples
    --------
    >>> import flambeau, numpy
    >>> a = numpy.ones(2, dtype="float32")
    >>> t = flambeau.from_dlpack(a); a[1] = 5
    >>> t
    tensor([1., 5.])
    >>> flambeau.from_dlpack(flambeau.to_dlpack(t))
    tensor([1., 5.])
    """
    from flambeau.backends import _registry

    if device is not None or copy:
        out = from_dlpack(ext_tensor)
        dev = out._device if device is None else canonical(device)
        if dev is not out._device and copy is False:
            raise ValueError(f"from_dlpack: copy=False, but the data is on {out.device}, not "
                             f"{dev}: moving it copies it")
        moved = out.to(dev)
        return moved.clone() if copy and moved is out else moved
    ext_tensor = _dlpack.exporter(ext_tensor)  # a capsule (to_dlpack's) becomes an exporter
    dev_type, dev_index = ext_tensor.__dlpack_device__()
    dev_type = int(dev_type)
    if dev_type == 1:  # kDLCPU
        arr = _dlpack.host_array(ext_tensor)
        dev = canonical("cpu")
        dev.backend
        return Tensor._make(arr, dev)
    if dev_type == 2:  # kDLCUDA
        backend = _registry.get_backend("cuda")
        arr = backend.from_dlpack(ext_tensor)
        return Tensor._make(arr, canonical(f"cuda:{int(dev_index)}"))
    raise RuntimeError(f"from_dlpack: unsupported DLPack device type {dev_type}")


# ------------------------------------------------------------------ filled


def _filled(fill, size, dtype, device, requires_grad, op, default=None, pin_memory=False):
    shape = _size_args(size, op)
    dev = canonical(device)
    np_dtype = _np_dtype(dtype, default)
    if fill is not None:
        fill = fill_int(scalar_for(fill, _dtype.from_numpy_dtype(np_dtype)), np_dtype)
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        if fill is None:
            arr = xp.empty(shape, dtype=np_dtype)
        elif fill == 0:
            arr = xp.zeros(shape, dtype=np_dtype)
        else:
            arr = xp.full(shape, fill, dtype=np_dtype)
    return _finish(arr, dev, requires_grad, pin_memory, op)


@_fills_out
def zeros(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of zeros of the given size.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros(2, 3).shape, flambeau.zeros((2,), dtype=flambeau.int64)
    (flambeau.Size([2, 3]), tensor([0, 0]))
    """
    if layout is _compat.sparse_coo:
        return _sparse.empty_coo(_size_args(size, "zeros"), dtype, device, requires_grad)
    _compat.check_layout("zeros", layout)
    return _filled(0, size, dtype, device, requires_grad, "zeros", pin_memory=pin_memory)


@_fills_out
def ones(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ones.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ones(2)
    tensor([1., 1.])
    """
    _compat.check_layout("ones", layout)
    return _filled(1, size, dtype, device, requires_grad, "ones", pin_memory=pin_memory)


@_fills_out
def empty(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialized tensor.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.empty(2, 2).shape
    flambeau.Size([2, 2])
    """
    if layout is _compat.sparse_coo:
        return _sparse.empty_coo(_size_args(size, "empty"), dtype, device, requires_grad)
    _compat.check_layout("empty", layout)
    _compat.check_memory_format("empty", memory_format, len(_size_args(size, "empty")),
                                preserve=False)
    return _filled(None, size, dtype, device, requires_grad, "empty", pin_memory=pin_memory)


@_fills_out
def full(size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """A tensor filled with ``fill_value`` (its dtype inferred from the value).

    Without ``dtype``, a bool gives bool, an int int64, a float the default float dtype and a
    complex number its complex counterpart (complex64 by default).

    Raises
    ------
    RuntimeError
        If a complex ``fill_value`` with a non-zero imaginary part meets a real ``dtype``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.full((2,), 7)
    tensor([7, 7])
    >>> flambeau.full((2,), 1 - 2j)
    tensor([1.-2.j, 1.-2.j])
    """
    _compat.check_layout("full", layout)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    default = None
    if dtype is None:
        if isinstance(fill_value, bool):
            default = _dtype.bool
        elif isinstance(fill_value, int):
            default = _dtype.int64
        elif isinstance(fill_value, (complex, np.complexfloating)):
            default = _dtype.get_default_dtype().to_complex()
    return _filled(fill_value, (size,) if isinstance(size, int) else (tuple(size),), dtype,
                   device, requires_grad, "full", default, pin_memory)


def _like(fill, input, dtype, device, requires_grad, op, pin_memory):
    return _filled(fill, (tuple(input.shape),), dtype if dtype is not None else input.dtype,
                   device if device is not None else input.device, requires_grad, op,
                   pin_memory=pin_memory)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    """Zeros with the shape (and by default dtype and device) of ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.zeros_like(flambeau.ones(2, dtype=flambeau.int32))
    tensor([0, 0], dtype=flambeau.int32)
    """
    if layout is _compat.sparse_coo or (layout is None and input.is_sparse):
        return _sparse.empty_coo(input.shape, dtype or input.dtype, device or input.device,
                                 requires_grad)
    _compat.check_layout("zeros_like", layout)
    _compat.check_memory_format("zeros_like", memory_format, input.dim())
    return _like(0, input, dtype, device, requires_grad, "zeros_like", pin_memory)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    """Ones shaped like ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.ones_like(flambeau.zeros(2))
    tensor([1., 1.])
    """
    _compat.check_layout("ones_like", layout)
    _compat.check_memory_format("ones_like", memory_format, input.dim())
    return _like(1, input, dtype, device, requires_grad, "ones_like", pin_memory)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    """An uninitialized tensor shaped like ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.empty_like(flambeau.zeros(3)).shape
    flambeau.Size([3])
    """
    _compat.check_layout("empty_like", layout)
    _compat.check_memory_format("empty_like", memory_format, input.dim())
    return _like(None, input, dtype, device, requires_grad, "empty_like", pin_memory)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    """``fill_value`` everywhere, shaped like ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.full_like(flambeau.zeros(2), 3.5)
    tensor([3.5000, 3.5000])
    """
    _compat.check_layout("full_like", layout)
    _compat.check_memory_format("full_like", memory_format, input.dim())
    return _like(fill_value, input, dtype, device, requires_grad, "full_like", pin_memory)


@_fills_out
def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    """The identity matrix (``n`` x ``m``).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    _compat.check_layout("eye", layout)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    dev = canonical(device)
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        arr = xp.eye(n, n if m is None else m, dtype=_np_dtype(dtype))
    return _finish(arr, dev, requires_grad, pin_memory, "eye")


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


@_fills_out
def arange(start=0, end=None, step=1, *, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are ints.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.arange(4), flambeau.arange(0, 1, 0.25)
    (tensor([0, 1, 2, 3]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    _compat.check_layout("arange", layout)
    if end is None:
        start, end = 0, start
    # complex bounds count by their real part when their imaginary part is zero, as in torch
    vals = [scalar_for(v.item() if isinstance(v, Tensor) else v, _dtype.float64)
            for v in (start, end, step)]
    start, end, step = vals
    dev = canonical(device)
    _no_complex(f"arange_{dev.type}", dtype)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(
            f"arange: upper bound ({end}) and lower bound ({start}) inconsistent with step sign "
            f"({step})"
        )
    all_int = all(isinstance(v, (int, np.integer)) for v in vals)
    if all_int and not all(_INT64_MIN <= v <= _INT64_MAX for v in vals):
        for v in vals:  # torch's errors: NumPy's name its C long, or its array size
            check_scalar_int(v)
        raise int_overflow(np.dtype(np.int64))
    np_dtype = _np_dtype(dtype, _dtype.int64 if all_int else None)
    n = builtins.max(0, math.ceil((end - start) / step))
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        if all_int:
            arr = xp.arange(start, end, step, dtype=np.int64).astype(np_dtype, copy=False)
        else:  # start + i * step, as PyTorch computes it (no accumulated rounding)
            arr = (start + xp.arange(n, dtype=np.float64) * step).astype(np_dtype)
    return _finish(arr, dev, requires_grad, pin_memory, "arange")


def _endpoints(op, start, end, dtype):
    """Numbers (or 0-dim tensors) ``start`` and ``end`` of linspace/logspace as Python numbers,
    with the dtype to compute in and the result's dtype: complex endpoints give the default
    dtype's complex counterpart, as in torch."""
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end)]
    is_complex = any(isinstance(v, (complex, np.complexfloating)) for v in vals)
    default = _dtype.get_default_dtype()
    inferred = default.to_complex() if is_complex else default
    out = inferred if dtype is None else _dtype.to_dtype(dtype)
    if is_complex and not out.is_complex:
        raise RuntimeError(f"{op}(): complex endpoints {vals[0]!r} and {vals[1]!r} give "
                           f"{inferred}, which can't be safely cast to the passed dtype {out}; "
                           "pass a complex dtype")
    work = complex if is_complex or out.is_complex else float
    return [work(v) for v in vals], work, out


@_fills_out
def linspace(start, end, steps, *, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Complex endpoints space the values along the segment between them in the complex plane,
    in the default dtype's complex counterpart unless ``dtype`` is a complex dtype.

    Raises
    ------
    RuntimeError
        If ``steps`` is negative, or the endpoints are complex and ``dtype`` is not.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    >>> flambeau.linspace(0, 2 + 4j, 3)
    tensor([0.+0.j, 1.+2.j, 2.+4.j])
    """
    _compat.check_layout("linspace", layout)
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    (start, end), work, out = _endpoints("linspace", start, end, dtype)
    dev = canonical(device)
    _dtype.refuse_float8(f"linspace_{dev.type}", out)
    xp = dev.backend.xp
    with dev.backend.use_device(dev.index):
        if work is complex:  # part by part: not every array namespace takes complex endpoints
            arr = xp.empty(int(steps), dtype=np.complex128)
            arr.real = xp.linspace(start.real, end.real, int(steps))
            arr.imag = xp.linspace(start.imag, end.imag, int(steps))
            arr = arr.astype(out.np, copy=False)
        else:
            arr = xp.linspace(start, end, int(steps)).astype(out.np)
    return _finish(arr, dev, requires_grad, pin_memory, "linspace")


@_fills_out
def logspace(start, end, steps, base=10.0, *, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """``base ** linspace(start, end, steps)``.

    Complex endpoints give complex powers (in the default dtype's complex counterpart unless
    ``dtype`` is a complex dtype).

    Raises
    ------
    RuntimeError
        If the endpoints are complex and ``dtype`` is not.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    >>> flambeau.logspace(0, 1j, 2, base=2)
    tensor([1.0000+0.0000j, 0.7692+0.6390j])
    """
    _compat.check_layout("logspace", layout)
    (start, end), work, out_dtype = _endpoints("logspace", start, end, dtype)
    lin = linspace(start, end, steps, device=device,
                   dtype=_dtype.complex128 if work is complex else _dtype.float64)
    out = pinned((base ** lin).to(out_dtype), pin_memory, "logspace")
    return out.requires_grad_(True) if requires_grad else out


# ------------------------------------------------------------------ random


def _rand_common(draw, size, generator, dtype, device, requires_grad, op, pin_memory):
    shape = _size_args(size, op)
    dev = canonical(device if device is not None else
                    (generator.device if generator is not None and not isinstance(
                        generator, _random._DefaultCPU) else None))
    gen = _random.generator_for(generator, dev)
    np_dtype = _np_dtype(dtype)
    if np_dtype in _dtype.CAST_FIXED:  # a float8: torch has no sampler for it
        _dtype.refuse_float8(_random.FLOAT8_KERNELS.get(op, op), _dtype.from_numpy_dtype(np_dtype))
    arr = draw(gen._rng, shape, np_dtype)
    return _finish(arr, dev, requires_grad, pin_memory, op)


def _parts(draw, scale=None):
    """``draw(rng, shape, np_dtype)`` extended to complex dtypes: the real and imaginary parts
    are drawn together, in the parts' real dtype, as ``shape + (2,)`` (then times ``scale``)."""

    def run(rng, shape, np_dtype):
        np_dtype = np.dtype(np_dtype)
        if np_dtype.kind != "c":
            return draw(rng, shape, np_dtype)
        part = np.dtype(np.float64 if np_dtype == np.complex128 else np.float32)
        arr = draw(rng, tuple(shape) + (2,), part)
        if scale is not None:
            arr *= part.type(scale)
        return arr.view(np_dtype).reshape(shape)

    return run


def _not_complex_random(op, dtype):
    """PyTorch's error for an integer sampler asked for a complex dtype."""
    if dtype is not None and _dtype.to_dtype(dtype).is_complex:
        raise RuntimeError(f"{op}: check_random_bounds handles only integral, floating-point and "
                           f"boolean types (got {_dtype.to_dtype(dtype)})")


@_fills_out
def rand(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples on [0, 1).

    For a complex dtype, the real and imaginary parts are each uniform on [0, 1), as in torch.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.rand(2, 3)
    >>> x.shape, bool(((x >= 0) & (x < 1)).all())
    (flambeau.Size([2, 3]), True)
    >>> z = flambeau.rand(100, dtype=flambeau.complex64)
    >>> bool(((z.real >= 0) & (z.real < 1) & (z.imag >= 0) & (z.imag < 1)).all())
    True
    """
    _compat.check_layout("rand", layout)
    return _rand_common(_parts(lambda r, s, d: r.random(s, d)), size, generator, dtype,
                        device, requires_grad, "rand", pin_memory)


@_fills_out
def randn(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples.

    For a complex dtype, the samples are standard complex normal, as in torch: the real and
    imaginary parts are each normal with variance 1/2, so that ``E|z|^2 = 1``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.randn(1000).std().item() > 0.8
    True
    >>> z = flambeau.randn(20000, dtype=flambeau.complex128)
    >>> round(z.real.var().item(), 1), round(z.imag.var().item(), 1)
    (0.5, 0.5)
    """
    _compat.check_layout("randn", layout)
    return _rand_common(_parts(lambda r, s, d: r.standard_normal(s, d), 0.5 ** 0.5), size,
                        generator, dtype, device, requires_grad, "randn", pin_memory)


@_fills_out
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """Integers uniform on [low, high); int64 by default.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.randint(0, 5, (100,))
    >>> bool(((x >= 0) & (x < 5)).all()), x.dtype
    (True, flambeau.int64)
    """
    _compat.check_layout("randint", layout)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        high, size = None, high
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high is None:
        one = _int_bound(low)
        if one is None:
            raise TypeError(f"randint(): argument 'high' (position 1) must be int, not "
                            f"{_type_name(low)}")
        low, high = 0, one
    else:
        bounds = _int_bound(low), _int_bound(high)
        if None in bounds:
            raise TypeError(
                f"randint() received an invalid combination of arguments - got "
                f"({_type_name(low)}, {_type_name(high)}, {_type_name(size)}), but expected "
                "one of:\n * (int high, tuple of ints size, ...)\n"
                " * (int low, int high, tuple of ints size, ...)")
        low, high = bounds
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    _not_complex_random("randint", dtype)
    dtype = dtype if dtype is not None else _dtype.int64
    np_dtype = _dtype.to_dtype(dtype).np
    if np_dtype not in _dtype.CAST_FIXED:  # float8s: refused by name below
        # as torch's random_(from, to): bounds the dtype cannot hold are refused, not wrapped
        _random.check_random_bounds(np_dtype, low, high - 1)
    return _rand_common(lambda r, s, d: r.integers(low, high, s, d), (size,), generator, dtype,
                        device, requires_grad, "randint", pin_memory)


def _int_bound(v):
    """A bound of ``randint`` as a Python int (an int, a NumPy integer or a 0-d integer
    tensor), or None where torch's argument parser refuses it (a float, a bool)."""
    if isinstance(v, Tensor):
        return int(v.item()) if v._data.ndim == 0 and v._data.dtype.kind in "iu" else None
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = int(v)
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise ValueError("Overflow when unpacking long long")
        return v
    return None


def _type_name(v):
    """A value's type as torch's argument errors name it (``numpy.float64``, ``Tensor``)."""
    cls = type(v)
    return cls.__name__ if cls.__module__ in ("builtins", "flambeau") or isinstance(v, Tensor) \
        else f"{cls.__module__}.{cls.__name__}"


@_fills_out
def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of ``0..n-1``.

    Examples
    --------
    >>> import flambeau
    >>> sorted(flambeau.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    _compat.check_layout("randperm", layout)
    _no_complex("randperm", dtype)
    dtype = dtype if dtype is not None else _dtype.int64
    return _rand_common(lambda r, s, d: _as(r.permutation(n), d), ((),), generator, dtype,
                        device, requires_grad, "randperm", pin_memory)


def _as(arr, np_dtype):
    return arr.astype(np_dtype, copy=False)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, generator=None,
              memory_format=None, pin_memory=False):
    """Uniform samples shaped like ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.rand_like(flambeau.zeros(2, 2)).shape
    flambeau.Size([2, 2])
    """
    _compat.check_layout("rand_like", layout)
    _compat.check_memory_format("rand_like", memory_format, input.dim())
    return pinned(rand(*input.shape, generator=generator, dtype=dtype or input.dtype,
                       device=device or input.device, requires_grad=requires_grad),
                  pin_memory, "rand_like")


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               generator=None, memory_format=None, pin_memory=False):
    """Normal samples shaped like ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.randn_like(flambeau.zeros(3)).shape
    flambeau.Size([3])
    """
    _compat.check_layout("randn_like", layout)
    _compat.check_memory_format("randn_like", memory_format, input.dim())
    return pinned(randn(*input.shape, generator=generator, dtype=dtype or input.dtype,
                        device=device or input.device, requires_grad=requires_grad),
                  pin_memory, "randn_like")


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, generator=None,
                 memory_format=None, pin_memory=False, requires_grad=False):
    """Random integers shaped like ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.randint_like(flambeau.zeros(3), 10).dtype
    flambeau.float32
    """
    _compat.check_layout("randint_like", layout)
    _compat.check_memory_format("randint_like", memory_format, input.dim())
    if high is None:
        low, high = 0, low
    return pinned(randint(low, high, tuple(input.shape), generator=generator,
                          dtype=dtype or input.dtype, device=device or input.device,
                          requires_grad=requires_grad), pin_memory, "randint_like")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """Normal samples with the given mean and std (numbers or tensors, broadcast).

    With a tensor ``mean`` or ``std`` the result has the dtype of ``mean`` (of ``std`` for a
    number ``mean``); with numbers, ``size`` is required and ``dtype``, ``device`` and
    ``requires_grad`` apply as in :func:`randn`.

    ``out=`` receives the samples, drawn in its dtype, as in PyTorch: it is resized to the
    broadcast shape of ``mean`` and ``std`` (for a number ``std``, to the broadcast shape of
    ``mean`` and ``out`` itself; for a number ``mean``, to ``std``'s shape; for numbers, to
    ``size``). A ``dtype`` given with ``out`` must be out's.

    Raises
    ------
    RuntimeError
        For a negative or NaN ``std``, a complex ``std``, a ``dtype`` other than out's, a
        complex ``mean`` into a real ``out``, or an ``out=`` call where an input requires
        grad (outside :func:`no_grad`).
    NotImplementedError
        For an integer or bool result dtype (the ``mean``'s, ``dtype`` or ``out``'s).

    Examples
    --------
    >>> import flambeau
    >>> flambeau.normal(flambeau.zeros(3), 1.0).shape
    flambeau.Size([3])
    >>> flambeau.normal(2.0, 0.0, (2,))
    tensor([2., 2.])
    >>> out = flambeau.empty(0, dtype=flambeau.float64)
    >>> flambeau.normal(flambeau.full((2,), 5.0), flambeau.zeros(2), out=out) is out, out
    (True, tensor([5., 5.], dtype=flambeau.float64))
    """
    _compat.check_layout("normal", layout)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        return _normal_of_tensors(mean, std, generator, out)
    if size is None:
        raise TypeError("normal(): with float mean and std, `size` is required")
    if out is not None:
        _check_out_dtype(dtype, out)
    _check_std(std)
    shape = _size_args((size,), "normal")
    if out is None:
        _check_normal_dtype(_dtype.to_dtype(dtype) if dtype is not None else
                            _dtype.get_default_dtype())
        z = randn(*shape, generator=generator, dtype=dtype, device=device)
        return pinned(z.mul_(std).add_(mean), pin_memory, "normal").requires_grad_(requires_grad)
    _check_normal_dtype(out.dtype)
    z = randn(*shape, generator=generator, dtype=out.dtype,
              device=device if device is not None else out.device)
    return _into_out(z.mul_(std).add_(mean), out, "normal", requires_grad)


def _normal_of_tensors(mean, std, generator, out):
    if isinstance(std, Tensor):
        if std.is_complex():
            raise RuntimeError("normal expects standard deviation to be non-complex")
        if not bool((std >= 0).all()):  # NaN too (a sync on a device, as torch's)
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        _check_std(std)
    ref = mean if isinstance(mean, Tensor) else std
    if not isinstance(std, Tensor):
        # torch sizes the result by broadcasting mean with out's current shape
        shape = _infer_size(tuple(mean.shape), tuple(out.shape) if out is not None else ())
    elif not isinstance(mean, Tensor):
        shape = tuple(std.shape)
    else:
        shape = _infer_size(tuple(mean.shape), tuple(std.shape))
    dt = out.dtype if out is not None else ref.dtype
    _check_normal_dtype(dt)
    z = randn(*shape, generator=generator, dtype=dt,
              device=out.device if out is not None else ref.device)
    result = z * std + mean
    if out is None:
        return result.detach().to(dt)
    return write_out(result, out, op="normal")  # refuses inputs that require grad


def _infer_size(a, b):
    """The broadcast shape of ``a`` and ``b``, with PyTorch's message when there is none."""
    nd = builtins.max(len(a), len(b))
    shape = []
    for i in range(nd):
        m = a[i - nd + len(a)] if i - nd + len(a) >= 0 else 1
        n = b[i - nd + len(b)] if i - nd + len(b) >= 0 else 1
        if m != n and m != 1 and n != 1:
            raise RuntimeError(f"The size of tensor a ({m}) must match the size of tensor b "
                               f"({n}) at non-singleton dimension {i}")
        shape.append(n if m == 1 else m)
    return tuple(shape)


def _check_std(std):
    if not std >= 0.0:  # NaN too
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _check_normal_dtype(dtype):
    """PyTorch's error for normal samples of an integer or bool dtype."""
    if not (dtype.is_floating_point or dtype.is_complex):
        from flambeau._ops.shape import _SCALAR_NAMES as names

        raise NotImplementedError(
            f'"normal_kernel_cpu" not implemented for \'{names.get(dtype.name, dtype.name)}\'')


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or ``p``), in ``input``'s dtype.

    ``out=`` receives the samples in its own dtype (any, bool and integers too), as in
    PyTorch, resized to ``input``'s shape.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.bernoulli(flambeau.tensor([0.0, 1.0]))
    tensor([0., 1.])
    >>> out = flambeau.empty(0, dtype=flambeau.bool)
    >>> flambeau.bernoulli(flambeau.tensor([1.0, 0.0]), out=out) is out, out
    (True, tensor([ True, False]))
    """
    _no_complex("bernoulli_tensor_cpu_self_" if p is None else "bernoulli_scalar_cpu_",
                input.dtype)
    probs = input if p is None else full_like(input, p)
    u = rand(*input.shape, generator=generator, dtype=_dtype.float64
             if probs.dtype is _dtype.float64 else _dtype.float32, device=input.device)
    if out is not None:  # samples of 0 and 1 cast exactly to any dtype
        refuse_grad("bernoulli", (input,))
        samples = u < probs
        return write_out(samples.to(out.dtype) if isinstance(out, Tensor) else samples, out)
    return (u < probs).to(input.dtype if input.dtype.is_floating_point else _dtype.float32)


def poisson(input, generator=None):
    """Poisson samples with rates ``input``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.poisson(flambeau.zeros(2))
    tensor([0., 0.])
    """
    _no_complex("poisson_cpu", input.dtype)
    dev = input.device
    gen = _random.generator_for(generator, dev)
    return tensor(_host_rng(gen).poisson(input._host()), dtype=input.dtype, device=dev)


def _host_rng(gen):
    """A NumPy generator for a sampler with no device kernel (``poisson``).

    A host stream is used as it is; a device stream (Philox on a GPU) seeds a NumPy generator
    with one draw of its own, so the samples follow ``manual_seed`` and advance the stream.
    """
    rng = gen._rng
    if hasattr(rng, "numpy"):
        return rng.numpy()
    seed = rng.integers(0, 2**63 - 1, (1,), np.int64)
    return np.random.default_rng(int(seed.item()))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Draw category indices with probabilities proportional to the rows of ``input``.

    The result is int64, of shape ``(num_samples,)`` for a 1-D ``input`` and
    ``(rows, num_samples)`` for a 2-D one; ``out=`` (an int64 tensor) receives it, resized
    to that shape, as in PyTorch.

    Raises
    ------
    RuntimeError
        For an input that is not 1-D or 2-D or not floating point, an ``out`` that is not
        int64, ``num_samples <= 0``, negative, infinite or NaN probabilities, a row without
        a positive one, or more samples than categories of positive weight without
        ``replacement``.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.multinomial(flambeau.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    >>> out = flambeau.empty(0, dtype=flambeau.int64)
    >>> flambeau.multinomial(flambeau.tensor([[0.0, 1.0], [1.0, 0.0]]), 1, out=out) is out, out
    (True, tensor([[1],
            [0]]))
    """
    if not input.is_floating_point():
        from flambeau._ops.shape import _SCALAR_NAMES as names

        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{names.get(input.dtype.name, input.dtype)}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim (got shape "
                           f"{tuple(input.shape)})")
    if out is not None and out.dtype != _dtype.int64:
        from flambeau._ops.shape import _SCALAR_NAMES as names

        raise RuntimeError(f"multinomial expects Long tensor out, got: "
                           f"{names.get(out.dtype.name, out.dtype.name)}")
    if num_samples <= 0:
        raise RuntimeError("multinomial: cannot sample n_sample <= 0 samples")
    probs = input.detach().double().reshape(-1, input.shape[-1])
    n_cat = probs.shape[1]
    if bool((probs < 0).any()) or not bool(probs.isfinite().all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    nonzero = (probs > 0).sum(1)
    if bool((nonzero == 0).any()):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities "
                           "<= 0)")
    if not replacement and bool((nonzero < num_samples).any()):
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement (asked for {num_samples} of {n_cat} categories with non-zero weight)"
        )
    rows = probs.shape[0]
    u = rand(rows, num_samples if replacement else n_cat, generator=generator,
             dtype=_dtype.float64, device=input.device)
    if replacement:
        cdf = probs.cumsum(1)
        cdf = cdf / cdf[:, -1:]
        idx = (cdf.unsqueeze(1) <= u.unsqueeze(2)).sum(2).clamp(max=n_cat - 1)
    else:
        # exponential race: the smallest -log(u) / p come first (weighted sampling without
        # replacement in one vectorized draw)
        keys = -u.log() / probs
        idx = keys.argsort(dim=1)[:, :num_samples]
    idx = idx.long()
    return write_out(idx.reshape(num_samples) if input.ndim == 1 else idx, out,
                     op="multinomial")

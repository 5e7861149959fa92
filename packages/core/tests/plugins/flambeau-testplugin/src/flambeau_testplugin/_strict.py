"""Device arrays that are as strict as CuPy's about host (NumPy) arrays, on NumPy.

CuPy keeps device and host memory apart, and says so with an error; plain NumPy arrays in a
"device" backend do not, so library code that hands a host array to a device op, or calls
NumPy on device data, passes on ``testdev`` and fails first on a GPU. This module reproduces
the rules of CuPy (``cupy/_core/core.pyx``, ``_kernel.pyx``, ``_routines_indexing.pyx``) that
such code breaks:

* A CuPy ufunc or function refuses a ``numpy.ndarray`` argument (0-d ones included) with
  ``TypeError: Unsupported type <class 'numpy.ndarray'>``; Python and NumPy scalars are
  accepted. Operators go through the same ufuncs (``device + host`` raises), and so does a
  NumPy ufunc or function called on a device array (``__array_ufunc__`` and
  ``__array_function__`` dispatch to CuPy, which then sees the host argument).
* ``asarray``/``array``/``asanyarray`` of the namespace convert a host array (a transfer).
* Indexing accepts NumPy index arrays (CuPy converts them); assigning a non-scalar host array
  through basic indexing (``d[:] = host``, ``d[1:3] = host``) raises CuPy's ``ValueError:
  non-scalar numpy.ndarray cannot be used for fill``, while one through advanced indexing
  (``d[idx] = host``) is converted.
* A full reduction or an integer index gives a 0-d device array, not a NumPy scalar;
  ``float()``, ``int()``, ``bool()``, ``.item()`` and ``.tolist()`` read values back.

What it cannot reproduce (an ``ndarray`` subclass is still an ``ndarray``):
``numpy.asarray(device)``/``numpy.array(device)`` make a host view without complaint (CuPy
raises ``TypeError: Implicit conversion to a NumPy array is not allowed``), ``isinstance(d,
numpy.ndarray)`` is True, and NumPy functions CuPy lacks still run. A host array made so and
stored as a tensor's data is caught at its next device op or transfer.

Examples
--------
>>> import numpy as np
>>> from flambeau_testplugin._strict import StrictArray, strict_numpy
>>> d = strict_numpy.arange(3.0)
>>> type(d).__name__, type(d.sum()).__name__, float(d.sum())
('StrictArray', 'StrictArray', 3.0)
>>> d + np.ones(3)  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
TypeError: Unsupported type <class 'numpy.ndarray'> (testdev strict: add of a device array ...)
"""

from __future__ import annotations

import types

import numpy as np

__all__ = ["StrictArray", "StrictNamespace", "StrictRNG", "device_copy", "strict_numpy",
           "unsupported_type"]


def unsupported_type(what: str) -> TypeError:
    """CuPy's error for a host ``numpy.ndarray`` given to a device op, naming the op."""
    return TypeError(
        f"Unsupported type {np.ndarray} (testdev strict: {what} of a device array and a host "
        "numpy.ndarray; move it with the backend's from_host / xp.asarray)")


def _is_host(x) -> bool:
    return isinstance(x, np.ndarray) and not isinstance(x, StrictArray)


def _check(values, what: str) -> None:
    """Raise CuPy's TypeError when a host array is among ``values`` (lists and tuples too)."""
    for v in values:
        if isinstance(v, (list, tuple)):
            _check(v, what)
        elif _is_host(v):
            raise unsupported_type(what)


def _unwrap(x):
    if isinstance(x, StrictArray):
        return x.view(np.ndarray)
    if type(x) in (list, tuple):
        return type(x)(_unwrap(v) for v in x)
    return x


def _to_device(x: np.ndarray) -> StrictArray:
    """``x`` as device data: a view of the device array it views, else a new array owning
    its memory, as a CuPy result does (the autograd engine reads ``.base`` to decide whether it
    may write into an array in place, so a view of a private host buffer would not do). A view
    of a fresh host buffer (a transpose of a new array) moves the buffer and keeps its strides.
    """
    owner, root = x.base, x
    while owner is not None and not (isinstance(owner, StrictArray) and owner.flags.owndata):
        if isinstance(owner, np.ndarray):
            root = owner
        owner = getattr(owner, "base", None)  # through views and as_strided's holders too
    start = None
    if owner is None and root is not x and root.flags.owndata and x.size:
        owner, start = device_copy(root), root.ctypes.data
    if owner is None or not x.size:
        return device_copy(x)
    try:
        view = np.ndarray.__new__(StrictArray, x.shape, x.dtype, buffer=owner,
                                  offset=x.ctypes.data - (start or owner.ctypes.data),
                                  strides=x.strides)
    except (TypeError, ValueError):  # a buffer NumPy cannot re-view (negative strides...)
        return x.view(StrictArray) if start is None else device_copy(x)
    if not x.flags.writeable:
        view.flags.writeable = False
    return view


def device_copy(x) -> StrictArray:
    """A device array owning a copy of ``x`` (a host transfer, as ``cupy.asarray``), laid out
    as ``x`` when ``x`` is contiguous.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_testplugin._strict import device_copy
    >>> d = device_copy(np.arange(3))
    >>> type(d).__name__, d.base is None, d.tolist()
    ('StrictArray', True, [0, 1, 2])
    """
    x = np.asarray(x)
    order = "F" if x.flags.f_contiguous and not x.flags.c_contiguous else "C"
    out = np.ndarray.__new__(StrictArray, x.shape, x.dtype, order=order)
    np.copyto(out.view(np.ndarray), x.view(np.ndarray), casting="no")
    return out


def _wrap(x):
    if isinstance(x, np.ndarray):
        return x if isinstance(x, StrictArray) else _to_device(x)
    if isinstance(x, np.generic):  # CuPy's reductions give 0-d device arrays, not scalars
        return _to_device(np.asarray(x))
    if isinstance(x, tuple):
        items = [_wrap(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


_SCALARS = (int, float, complex, bool, np.generic)
# NumPy's own ufuncs (with the internal ones its methods call, ndarray.clip's): CuPy has these
_NUMPY_UFUNCS = frozenset(v for module in (np, np._core.umath) for v in vars(module).values()
                          if isinstance(v, np.ufunc))


def _check_operands(values, what: str) -> None:
    """A CuPy ufunc takes device arrays and scalars only: not host arrays, lists or objects."""
    for v in values:
        if not isinstance(v, (StrictArray, *_SCALARS)):
            raise unsupported_type(what) if _is_host(v) else TypeError(
                f"Unsupported type {type(v)} (testdev strict: {what} takes device arrays and "
                "scalars only, as a CuPy ufunc)")


def _has_advanced_index(key) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (list, np.ndarray, bool, np.bool_)) for k in keys)


class StrictArray(np.ndarray):
    """A NumPy array that stands for device memory: it refuses host arrays as CuPy does.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_testplugin._strict import StrictArray
    >>> d = np.zeros(3).view(StrictArray)
    >>> d[np.array([0, 2])] = np.array([1.0, 2.0])  # advanced indexing converts, as in CuPy
    >>> d.tolist(), type(d[0]).__name__
    ([1.0, 0.0, 2.0], 'StrictArray')
    >>> d[:2] = np.ones(2)
    Traceback (most recent call last):
        ...
    ValueError: non-scalar numpy.ndarray cannot be used for fill
    """

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if ufunc not in _NUMPY_UFUNCS:
            return NotImplemented  # CuPy runs only the ufuncs it has (not SciPy's, say)
        what = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        # at's indices and values may be host data: CuPy converts them, as in indexing
        _check_operands(inputs[:1] if method == "at" else inputs, what)
        if out is not None:
            _check_operands(out, what)
            kwargs["out"] = _unwrap(out)
        result = getattr(ufunc, method)(*_unwrap(inputs), **kwargs)
        if out is not None and result is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        _check(args, func.__name__)
        _check(kwargs.values(), func.__name__)
        out = kwargs.get("out")
        result = func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        if out is not None and isinstance(result, np.ndarray):
            return out
        return _wrap(result)

    def __getitem__(self, key):
        result = super().__getitem__(key)
        return _to_device(np.asarray(result)) if isinstance(result, np.generic) else result

    def __setitem__(self, key, value):
        if _is_host(value) and value.ndim and not _has_advanced_index(key):
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        super().__setitem__(key, value)

    def __iter__(self):
        return (self[i] for i in range(len(self))) if self.ndim else super().__iter__()


class _StrictUfunc:
    """A NumPy ufunc that refuses host arrays (its call and its methods)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.__doc__ = ufunc.__doc__

    def _run(self, method, args, kwargs):
        what = self.__name__ if method == "__call__" else f"{self.__name__}.{method}"
        # at's indices and values may be host data: CuPy converts them, as in indexing
        _check_operands(args[:1] if method == "at" else args, what)
        _check(kwargs.values(), what)
        # device operands dispatch to StrictArray.__array_ufunc__; scalars alone give a 0-d
        return _wrap(getattr(self._ufunc, method)(*args, **kwargs))

    def __call__(self, *args, **kwargs):
        return self._run("__call__", args, kwargs)

    def __getattr__(self, name):
        if name in ("reduce", "accumulate", "outer", "at", "reduceat"):
            return lambda *args, **kwargs: self._run(name, args, kwargs)
        return getattr(self._ufunc, name)


def _strict_function(func, converts: bool):
    name, doc = func.__name__, func.__doc__
    if converts and func is np.asarray:
        func = np.asanyarray  # asarray(device) is the device array itself, as in CuPy

    def call(*args, **kwargs):
        if not converts:
            _check(args, name)
            _check(kwargs.values(), name)
        # device arguments dispatch to StrictArray.__array_function__; host results of the
        # creation functions (zeros, arange...) and conversions become device arrays
        return _wrap(func(*args, **kwargs))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = doc
    return call


class StrictNamespace(types.ModuleType):
    """NumPy's namespace (or a submodule's) as a CuPy-like device namespace.

    Functions return :class:`StrictArray` results and refuse host arrays, except the
    converting ones (``asarray``, ``array``, ``asanyarray``), which copy host data over as
    ``cupy.asarray`` does; ``ndarray`` is :class:`StrictArray`; types, dtypes and constants
    are NumPy's.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau_testplugin._strict import strict_numpy as xp
    >>> type(xp.asarray(np.ones(2))).__name__, type(xp.linalg.norm(xp.ones(2))).__name__
    ('StrictArray', 'StrictArray')
    >>> xp.concatenate([xp.ones(1), np.ones(1)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    TypeError: Unsupported type <class 'numpy.ndarray'> (testdev strict: concatenate of ...)
    """

    _CONVERTING = frozenset({"asarray", "array", "asanyarray"})
    _SUBMODULES = frozenset({"linalg", "fft", "random", "lib", "stride_tricks"})

    def __init__(self, module):
        super().__init__(f"testdev_strict.{module.__name__}")
        self._module = module

    def __getattr__(self, name):
        obj = getattr(self._module, name)
        if name == "ndarray":
            obj = StrictArray
        elif isinstance(obj, types.ModuleType):
            if name in self._SUBMODULES:
                obj = StrictNamespace(obj)
        elif isinstance(obj, np.ufunc):
            obj = _StrictUfunc(obj)
        elif callable(obj) and not isinstance(obj, type):
            obj = _strict_function(obj, name in self._CONVERTING)
        setattr(self, name, obj)  # looked up once per name
        return obj


strict_numpy = StrictNamespace(np)


class StrictRNG:
    """A host random stream whose draws arrive as device arrays, as a GPU stream's do.

    It has no ``numpy()`` method: samplers without a device kernel seed a host generator
    from one draw, as they do for CUDA.

    Examples
    --------
    >>> import numpy as np
    >>> from flambeau.backends import HostRNG
    >>> from flambeau_testplugin._strict import StrictRNG
    >>> type(StrictRNG(HostRNG(0)).random((2,), np.float32)).__name__
    'StrictArray'
    """

    __slots__ = ("_host",)

    def __init__(self, host):
        self._host = host

    def random(self, shape, dtype):
        return _wrap(self._host.random(shape, dtype))

    def standard_normal(self, shape, dtype):
        return _wrap(self._host.standard_normal(shape, dtype))

    def integers(self, low, high, shape, dtype):
        return _wrap(self._host.integers(low, high, shape, dtype))

    def permutation(self, n):
        return _wrap(self._host.permutation(n))

    def get_state(self) -> bytes:
        return self._host.get_state()

    def set_state(self, blob: bytes) -> None:
        self._host.set_state(blob)

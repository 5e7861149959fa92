"""DLPack capsules: ``flambeau.to_dlpack`` and what ``flambeau.from_dlpack`` needs to take one.

A capsule (``PyCapsule`` named "dltensor") is DLPack's legacy, pre-``__dlpack__`` currency:
``torch.to_dlpack`` and CuPy's ``toDlpack`` return one. NumPy and CuPy only consume objects
with ``__dlpack__``/``__dlpack_device__``, so :func:`exporter` dresses a capsule as such an
object, reading the device from the ``DLTensor`` the capsule points to.
"""

from __future__ import annotations

import ctypes
import datetime

import numpy as np

__all__ = ["to_dlpack"]

# types.CapsuleType arrives with Python 3.13; datetime's C API has been a capsule forever
_CAPSULE = type(datetime.datetime_CAPI)


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLTensorHead(ctypes.Structure):  # the first fields of DLPack's DLTensor
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice)]


class _VersionedHead(ctypes.Structure):  # DLManagedTensorVersioned, up to its DLTensor
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32),
                ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p),
                ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensorHead)]


# private prototypes: setting argtypes on ctypes.pythonapi's shared ones could clash with others
_get_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(
    ("PyCapsule_GetName", ctypes.pythonapi))
_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi))


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory (PyTorch's ``torch.to_dlpack``).

    The capsule is the legacy way to hand a tensor to another library: pass it once to
    :func:`flambeau.from_dlpack`, ``torch.from_dlpack`` or ``cupy.from_dlpack``. New code passes
    the tensor itself, as every consumer now takes objects with ``__dlpack__``. As in PyTorch,
    a tensor that requires grad is exported too (the capsule carries no graph).

    Parameters
    ----------
    tensor : Tensor
        The tensor to export.

    Returns
    -------
    PyCapsule
        A capsule named ``"dltensor"``, to be consumed once.

    Raises
    ------
    TypeError
        If ``tensor`` is not a :class:`flambeau.Tensor`.
    BufferError
        If the tensor's dtype has no DLPack code on its device (bfloat16 on the CPU).

    Examples
    --------
    >>> import flambeau
    >>> t = flambeau.tensor([1.0, 2.0])
    >>> capsule = flambeau.to_dlpack(t)
    >>> u = flambeau.from_dlpack(capsule); u[0] = 5
    >>> t
    tensor([5., 2.])
    """
    from flambeau._tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected a Tensor, got {type(tensor).__name__}")
    try:
        # no max_version: the consumer of a capsule may only know the unversioned layout
        return tensor.detach().__dlpack__()
    except BufferError as exc:
        raise BufferError(f"to_dlpack: {str(exc).removeprefix('__dlpack__: ')}") from None


class _CapsuleExporter:
    """A capsule with the ``__dlpack__``/``__dlpack_device__`` methods consumers call."""

    __slots__ = ("_capsule", "_device", "unversioned")

    def __init__(self, capsule, device, unversioned):
        self._capsule, self._device, self.unversioned = capsule, device, unversioned

    def __dlpack__(self, **kwargs):  # the capsule is what it is: kwargs cannot change it
        return self._capsule

    def __dlpack_device__(self):
        return self._device


def exporter(obj):
    """``obj`` itself if it has ``__dlpack__``; a capsule dressed as one; else a TypeError."""
    if hasattr(obj, "__dlpack__"):
        return obj
    if type(obj) is not _CAPSULE:
        raise TypeError("from_dlpack: expected an object with __dlpack__ (a NumPy or CuPy "
                        f"array, a torch tensor...) or a DLPack capsule, got {type(obj).__name__}")
    name = _get_name(obj)
    if name == b"dltensor":
        head = _DLTensorHead.from_address(_get_pointer(obj, name))
    elif name == b"dltensor_versioned":
        head = _VersionedHead.from_address(_get_pointer(obj, name)).dl_tensor
    elif name in (b"used_dltensor", b"used_dltensor_versioned"):
        raise RuntimeError("from_dlpack: this DLPack capsule was already consumed; a capsule "
                           "can be used once (call to_dlpack again, or pass the tensor itself)")
    else:
        raise TypeError(f"from_dlpack: expected a DLPack capsule, got a capsule named {name!r}")
    device = (head.device.device_type, head.device.device_id)
    return _CapsuleExporter(obj, device, unversioned=name == b"dltensor")


class _WritableView:
    """Keeps a read-only array alive while exposing its memory as writable."""

    def __init__(self, array):
        self._array = array
        self.__array_interface__ = dict(array.__array_interface__,
                                        data=(array.__array_interface__["data"][0], False))


def host_array(ext):
    """The NumPy array sharing the memory of CPU exporter ``ext``.

    NumPy marks an array from an unversioned capsule read-only, as such a capsule cannot say
    whether its memory may be written; PyTorch treats it as writable (NumPy itself refuses to
    put a read-only array in one), and so does flambeau, so ``from_dlpack(to_dlpack(t))``
    shares memory both ways.
    """
    array = np.from_dlpack(ext)
    if isinstance(ext, _CapsuleExporter) and ext.unversioned and not array.flags.writeable:
        array = np.asarray(_WritableView(array))
    return array

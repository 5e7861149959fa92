"""flambeau.utils.dlpack: DLPack exchange, PyTorch's ``torch.utils.dlpack``.

:func:`from_dlpack` and :func:`to_dlpack` are :func:`flambeau.from_dlpack` and
:func:`flambeau.to_dlpack`: tensors made this way share memory with the other library's.

Examples
--------
>>> import flambeau, numpy
>>> from flambeau.utils.dlpack import from_dlpack, to_dlpack
>>> a = numpy.zeros(3, dtype="float32")
>>> t = from_dlpack(a); t[0] = 1
>>> a
array([1., 0., 0.], dtype=float32)
>>> from_dlpack(to_dlpack(t)).tolist()
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

import enum

from flambeau._creation import from_dlpack
from flambeau._dlpack import to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device type codes, as ``__dlpack_device__()`` returns them.

    The values are those of the DLPack specification (``dlpack.h``); flambeau consumes
    ``kDLCPU`` and, with flambeau-cuda, ``kDLCUDA``.

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.utils.dlpack import DLDeviceType
    >>> DLDeviceType(flambeau.zeros(1, device="cpu").__dlpack_device__()[0])
    <DLDeviceType.kDLCPU: 1>
    """

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17

"""The ``cuda`` device type: CuPy arrays on NVIDIA GPUs."""

from __future__ import annotations

import contextlib

import numpy as np

from flambeau.backends import Backend
from flambeau_cuda import _cupy, _memory
from flambeau_cuda._rng import CupyEngine, PhiloxRNG

__all__ = ["CudaBackend"]


def _register_erf():
    """CUDA's double-precision ``erf`` for core's erf, erfinv, ndtri and normal CDFs (the
    generic fallback is a 1e-7 approximation)."""
    import cupyx.scipy.special

    from flambeau._ops.elementwise import register_erf_kernel

    register_erf_kernel("cupy", cupyx.scipy.special.erf)


class CudaBackend(Backend):
    """CUDA devices through CuPy: arrays are ``cupy.ndarray`` in device memory.

    CuPy is imported on first use (:attr:`xp`, :meth:`is_available`), so registering this
    backend costs nothing on machines that never touch a GPU. Named kernels live in
    :mod:`flambeau_cuda._kernels`; the ``flambeau.cuda.*`` extras in :mod:`flambeau_cuda._api`.

    Examples
    --------
    >>> from flambeau_cuda._backend import CudaBackend
    >>> b = CudaBackend()
    >>> b.name, b.host_memory
    ('cuda', False)
    >>> b.is_available() or b.unavailable_reason().startswith(("no CUDA", "CuPy is not"))
    True
    """

    host_memory = False

    def __init__(self):
        from flambeau_cuda._kernels import kernel_table

        super().__init__("cuda", xp=None, kernels=kernel_table())
        self._probed = None  # (device_count, reason) once asked

    # ------------------------------------------------------------------ availability

    def _probe(self):
        if self._probed is None:
            self._probed = _cupy.probe()
            if self._probed[0]:
                _memory.install()
        return self._probed

    @property
    def xp(self):
        """The ``cupy`` module (imported on first access)."""
        if self._xp is None:
            self._xp = _cupy.load()
            _register_erf()
        return self._xp

    def is_available(self) -> bool:
        return self._probe()[0] > 0

    def unavailable_reason(self) -> str:
        return self._probe()[1] or "CUDA is available"

    def device_count(self) -> int:
        return self._probe()[0]

    def is_initialized(self) -> bool:
        """Whether CuPy has been loaded and found a device, without probing now
        (``flambeau.cuda.is_initialized``)."""
        return self._probed is not None and self._probed[0] > 0

    def current_device(self) -> int:
        """The index of the current CUDA device of this thread."""
        return int(self.xp.cuda.runtime.getDevice())

    def set_device(self, index: int) -> None:
        """Make ``index`` the current CUDA device of this thread."""
        self._check_index(index)
        self.xp.cuda.Device(index).use()

    def _check_index(self, index):
        count = self.device_count()
        if not 0 <= index < count:
            raise RuntimeError(f"cuda:{index}: invalid device index; {count} CUDA device"
                               f"{'s are' if count != 1 else ' is'} visible (cuda:0 .. "
                               f"cuda:{count - 1})")

    def use_device(self, index: int | None):
        if index is None:
            return contextlib.nullcontext()
        self._check_index(index)
        return self.xp.cuda.Device(index)

    # ------------------------------------------------------------------ transfers

    def to_host(self, array) -> np.ndarray:
        return self.xp.asnumpy(array)

    def from_host(self, array: np.ndarray, index: int | None = None, non_blocking=False):
        """Copy a NumPy array to device ``index``.

        With ``non_blocking`` the copy is queued on the current stream and returns at once
        when ``array`` lives in pinned memory (see :meth:`pin`); the caller synchronizes.
        """
        xp = self.xp
        with self.use_device(index):
            if not non_blocking:
                return xp.asarray(array)
            host = np.ascontiguousarray(array)
            out = xp.empty(host.shape, dtype=host.dtype)
            out.set(host, stream=xp.cuda.get_current_stream())
            return out

    def asarray(self, data, dtype=None, index: int | None = None):
        with self.use_device(index):
            return self.xp.asarray(data, dtype=dtype)

    def device_of(self, array) -> int:
        return int(array.device.id)

    def from_dlpack(self, ext_tensor):
        """A CuPy array sharing memory with a DLPack-capable CUDA object (no copy)."""
        return self.xp.from_dlpack(ext_tensor)

    def pin(self, tensor):
        """A copy of a host tensor in page-locked memory (``DataLoader(pin_memory=True)``).

        Page-locked buffers make ``.to("cuda", non_blocking=True)`` an asynchronous copy.
        Tensors already on a GPU are returned unchanged.
        """
        from flambeau import Tensor

        if not tensor._device.backend.host_memory:
            return tensor
        import cupyx

        src = tensor._data
        buf = cupyx.empty_pinned(src.shape, dtype=src.dtype)
        buf[...] = src
        return Tensor._make(buf, tensor._device)

    def record_stream(self, array, stream) -> None:
        """``Tensor.record_stream``: the pool keeps ``array``'s memory until the work queued
        on ``stream`` (a ``flambeau.cuda.Stream``) when the array is freed has finished."""
        from flambeau_cuda import _memory

        _memory.record_stream(array.data.mem, stream._stream)

    # ------------------------------------------------------------------ RNG, sync

    def new_rng(self, seed: int, index: int | None = None):
        return PhiloxRNG(seed, CupyEngine(self.current_device() if index is None else index))

    def synchronize(self, index: int | None = None) -> None:
        dev = self.xp.cuda.Device(index) if index is not None else self.xp.cuda.Device()
        dev.synchronize()

    def cudnn_version(self) -> int | None:
        """cuDNN's version where convolutions can use it (cudnn-frontend installed), else None
        (``flambeau.backends.cudnn.version()``)."""
        from flambeau_cuda._kernels import _cudnn

        return _cudnn.version()

    def cuda_version(self) -> str:
        """The CUDA runtime's version as ``"major.minor"`` (``flambeau.version.cuda``, as
        ``torch.version.cuda``)."""
        v = int(self.xp.cuda.runtime.runtimeGetVersion())  # 12080 for 12.8
        return f"{v // 1000}.{v % 1000 // 10}"

    def cuda_module(self):
        """The module implementing ``flambeau.cuda.<name>`` beyond is_available/device_count."""
        from flambeau_cuda import _api

        return _api

"""The Backend base class: what a device type provides to flambeau."""

from __future__ import annotations

import numpy as np

__all__ = ["Backend", "HostRNG"]


class HostRNG:
    """A random-number stream on NumPy's PCG64 generator (the CPU backend's RNG).

    Backends whose arrays live elsewhere may draw on the host and transfer, or provide their
    own object with the same methods (``random``, ``standard_normal``, ``integers``,
    ``permutation``, ``get_state``, ``set_state``).

    Examples
    --------
    >>> import numpy
    >>> from flambeau.backends import HostRNG
    >>> rng = HostRNG(0)
    >>> rng.random((2,), numpy.float32).shape
    (2,)
    >>> state = rng.get_state(); a = rng.integers(0, 10, (3,), numpy.int64)
    >>> rng.set_state(state); bool((a == rng.integers(0, 10, (3,), numpy.int64)).all())
    True
    """

    __slots__ = ("_gen",)

    def __init__(self, seed: int):
        self._gen = np.random.Generator(np.random.PCG64(seed))

    def random(self, shape, dtype):
        if dtype in (np.float32, np.float64):
            return self._gen.random(shape, dtype=dtype)
        return self._gen.random(shape, dtype=np.float32).astype(dtype)

    def standard_normal(self, shape, dtype):
        if dtype in (np.float32, np.float64):
            return self._gen.standard_normal(shape, dtype=dtype)
        return self._gen.standard_normal(shape, dtype=np.float32).astype(dtype)

    def integers(self, low, high, shape, dtype):
        return self._gen.integers(low, high, size=shape, dtype=np.int64).astype(dtype, copy=False)

    def permutation(self, n):
        return self._gen.permutation(n)

    def get_state(self) -> bytes:
        state = self._gen.bit_generator.state
        words = [state["state"]["state"], state["state"]["inc"]]
        # PCG64 keeps half of a 64-bit draw for the next 32-bit one: save it too
        tail = [state["has_uint32"], state["uinteger"]]
        return b"".join(w.to_bytes(16, "little") for w in words) + b"".join(
            int(t).to_bytes(8, "little") for t in tail)

    def set_state(self, blob: bytes) -> None:
        if len(blob) != 48:
            raise ValueError(
                f"Generator.set_state: expected 48 bytes of PCG64 state, got {len(blob)}"
            )
        state = self._gen.bit_generator.state
        state["state"] = {
            "state": int.from_bytes(blob[:16], "little"),
            "inc": int.from_bytes(blob[16:32], "little"),
        }
        state["has_uint32"] = int.from_bytes(blob[32:40], "little")
        state["uinteger"] = int.from_bytes(blob[40:48], "little")
        self._gen.bit_generator.state = state

    def numpy(self) -> np.random.Generator:
        """The underlying NumPy generator (host-side draws such as multinomial)."""
        return self._gen


class Backend:
    """What a device type provides: its array namespace, devices, transfers, RNG and kernels.

    Subclass it (or pass callables) and return instances from the ``flambeau_backends`` hook.
    Ops are written once against :attr:`xp` (NumPy's API, which CuPy mirrors); entries of
    :attr:`kernels` replace generic implementations where a backend has a faster one.

    Parameters
    ----------
    name : str
        The device type, e.g. ``"cpu"`` or ``"cuda"``.
    xp : module
        The array namespace (``numpy``, ``cupy``, ...).
    kernels : dict, optional
        Named kernels (``"conv2d"``, ``"sgd_step"``, ...) overriding the generic ones.

    Examples
    --------
    >>> import numpy
    >>> from flambeau.backends import Backend
    >>> b = Backend("mydev", xp=numpy)
    >>> b.name, b.is_available(), b.device_count()
    ('mydev', True, 1)
    """

    #: whether arrays live in host memory (NumPy arrays), so ``.numpy()`` can share memory
    host_memory = True

    def __init__(self, name: str, xp=None, kernels: dict | None = None):
        self.name = name
        self._xp = xp
        self.kernels = dict(kernels or {})

    @property
    def xp(self):
        """The array namespace ops are written against."""
        return self._xp

    def is_available(self) -> bool:
        """Whether at least one device of this type can be used now."""
        return True

    def device_count(self) -> int:
        """The number of devices of this type."""
        return 1

    def unavailable_reason(self) -> str:
        """Why :meth:`is_available` is False (shown in errors)."""
        return f"no {self.name} device is visible"

    def to_host(self, array) -> np.ndarray:
        """Copy (or share, for host backends) ``array`` as a NumPy array."""
        return np.asarray(array)

    def from_host(self, array: np.ndarray, index: int | None = None):
        """Move a NumPy array to device ``index`` of this type."""
        return self.xp.asarray(array)

    def asarray(self, data, dtype=None, index: int | None = None):
        """Build an array on device ``index`` from array-like ``data``."""
        return self.xp.asarray(data, dtype=dtype)

    def device_of(self, array) -> int | None:
        """The device index holding ``array`` (None for single-device types)."""
        return None

    def use_device(self, index: int | None):
        """A context manager making ``index`` the current device while arrays are created."""
        import contextlib

        return contextlib.nullcontext()

    def new_rng(self, seed: int, index: int | None = None):
        """A random stream seeded with ``seed`` (see :class:`HostRNG` for the methods)."""
        return HostRNG(seed)

    def matmul(self, a, b):
        """``a @ b`` on this backend's arrays, in the operands' dtype.

        A ``"matmul"`` entry of :attr:`kernels` replaces the product; either way the result
        is cast back when the library computes in a wider type (NumPy multiplies bfloat16 in
        float32), so every op and layer gets the same dtype behaviour from one place.

        Examples
        --------
        >>> import numpy, ml_dtypes
        >>> from flambeau.backends import get_backend
        >>> a = numpy.ones((2, 2), dtype=ml_dtypes.bfloat16)
        >>> get_backend("cpu").matmul(a, a).dtype
        dtype(bfloat16)
        """
        kernel = self.kernels.get("matmul")
        out = kernel(a, b) if kernel is not None else self.xp.matmul(a, b)
        return out if out.dtype == a.dtype else out.astype(a.dtype)

    def run_kernel(self, name: str, *args):
        """The result of the named kernel ``name`` on ``args``, or None to run generic code.

        For the kernels that may decline an input (fused activations, softmax, pooling):
        None when :attr:`kernels` has no ``name``, or when the kernel returns None (a dtype it
        does not handle, say).

        Examples
        --------
        >>> import numpy
        >>> from flambeau.backends import Backend
        >>> b = Backend("mydev", xp=numpy, kernels={"twice": lambda a: 2 * a})
        >>> b.run_kernel("twice", numpy.ones(2)).tolist(), b.run_kernel("other", 1)
        ([2.0, 2.0], None)
        """
        kernel = self.kernels.get(name)
        return None if kernel is None else kernel(*args)

    def synchronize(self, index: int | None = None) -> None:
        """Wait until queued work on the device has finished (a no-op for the CPU)."""

    def share_memory(self, raw):
        """A copy of ``raw`` (a flat ``uint8`` array: a storage's bytes) in memory that other
        processes can map, for :meth:`flambeau.Tensor.share_memory_`; or None where this
        backend leaves tensors where they are.

        Host-memory backends copy into shared host memory. The default for the others
        (``host_memory`` False) is None, which makes ``share_memory_`` a no-op, as PyTorch's
        is for CUDA tensors.

        Examples
        --------
        >>> import numpy
        >>> from flambeau.backends import Backend, get_backend
        >>> raw, cpu = numpy.arange(3, dtype=numpy.uint8), get_backend("cpu")
        >>> shared = cpu.share_memory(raw)
        >>> shared.tolist(), cpu.is_shared(shared), cpu.is_shared(raw)
        ([0, 1, 2], True, False)
        >>> Backend("mydev", xp=numpy).share_memory(raw) is None  # a host backend shares too
        False
        """
        if not self.host_memory:
            return None
        from flambeau import _shared_memory

        return _shared_memory.copy_to_shared(raw)

    def is_shared(self, array) -> bool:
        """Whether ``array``'s memory is shared with other processes (as
        :meth:`share_memory` makes it).

        Examples
        --------
        >>> import numpy
        >>> from flambeau.backends import get_backend
        >>> get_backend("cpu").is_shared(numpy.zeros(2))
        False
        """
        if not self.host_memory:
            return False
        from flambeau import _shared_memory

        return _shared_memory.segment_of(array) is not None

    def __repr__(self):
        return f"<flambeau backend {self.name!r}>"

"""``flambeau.backends.cpu``: how the CPU backend manages host memory.

Training allocates and frees the same large temporaries at every step (im2col buffers,
activations, gradients). glibc's malloc hands blocks above a size threshold back to the
system when they are freed, so the next step takes a page fault for every 4 KiB page of the
same buffer again, which costs as much as the arithmetic done in it. When the CPU backend
starts, flambeau therefore asks glibc to keep freed memory for reuse (a caching allocator,
as frameworks keep for GPU memory): the process's resident size stays at its peak instead of
shrinking after each step. ``set_host_memory_caching(False)`` gives freed memory back at
once instead (glibc's default thresholds of 128 KiB, fixed). On systems without glibc
nothing changes.

Examples
--------
>>> import flambeau.backends.cpu as cpu
>>> cpu.set_host_memory_caching(False)
>>> cpu.host_memory_caching()
False
>>> cpu.set_host_memory_caching(True)  # the default once the CPU backend is in use
"""

from __future__ import annotations

import ctypes
import platform

__all__ = ["host_memory_caching", "set_host_memory_caching"]

# mallopt(3) parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to 32 MiB (glibc's largest mmap threshold) come from the heap and stay there;
# up to 1 GiB of free heap is kept before memory is given back to the system.
_CACHED = {_M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 1 << 30}
# glibc's documented defaults: 128 KiB for both; setting them turns off glibc's dynamic
# threshold, which would otherwise grow the threshold as large blocks are freed.
_DEFAULT = {_M_MMAP_THRESHOLD: 128 << 10, _M_TRIM_THRESHOLD: 128 << 10}

_state = {"enabled": False, "chosen": False}


def _mallopt():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None


def set_host_memory_caching(enabled: bool) -> None:
    """Keep (``True``) or give back (``False``) freed host memory of large arrays.

    Parameters
    ----------
    enabled : bool
        ``True`` keeps freed blocks of up to 32 MiB in the process for reuse, so repeated
        training steps do not page-fault on fresh memory; ``False`` sets glibc's default
        thresholds (128 KiB, without glibc's dynamic adjustment), which give blocks back to
        the system as they are freed. The choice holds for the whole process; once made,
        the CPU backend no longer applies its default when it starts.

    Examples
    --------
    >>> import flambeau.backends.cpu as cpu
    >>> cpu.set_host_memory_caching(True)
    >>> cpu.host_memory_caching() in (True, False)  # False where there is no glibc
    True
    """
    _state["chosen"] = True
    mallopt = _mallopt()
    if mallopt is None:
        _state["enabled"] = False
        return
    for param, value in (_CACHED if enabled else _DEFAULT).items():
        mallopt(param, value)
    _state["enabled"] = bool(enabled)


def host_memory_caching() -> bool:
    """Whether freed host memory is kept for reuse (see :func:`set_host_memory_caching`).

    Examples
    --------
    >>> import flambeau.backends.cpu as cpu
    >>> isinstance(cpu.host_memory_caching(), bool)
    True
    """
    return _state["enabled"]


def _default_on_backend_start() -> None:
    """Called when the CPU backend is created: cache unless the user chose otherwise."""
    if not _state["chosen"]:
        set_host_memory_caching(True)
        _state["chosen"] = False

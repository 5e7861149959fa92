"""``flambeau.nn.attention``: PyTorch's choice of ``scaled_dot_product_attention`` kernels.

PyTorch runs attention on one of several kernels (math, flash, memory-efficient, cuDNN) and
:func:`sdpa_kernel` restricts the choice for a block. flambeau has one implementation of
:func:`~flambeau.nn.functional.scaled_dot_product_attention`, which serves any allowed
kernel, so results do not depend on the choice; with every kernel switched off it raises, as
PyTorch does. The same switches are ``flambeau.backends.cuda.enable_*_sdp``.

Examples
--------
>>> import flambeau
>>> import flambeau.nn.functional as F
>>> from flambeau.nn.attention import SDPBackend, sdpa_kernel
>>> q = flambeau.ones(1, 2, 3, 4)
>>> with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
...     F.scaled_dot_product_attention(q, q, q).shape
flambeau.Size([1, 2, 3, 4])
"""

from __future__ import annotations

import contextlib
import enum

from flambeau.backends import cuda as _switches

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """The kernels of ``scaled_dot_product_attention``, with PyTorch's values.

    Examples
    --------
    >>> from flambeau.nn.attention import SDPBackend
    >>> int(SDPBackend.MATH), SDPBackend(1).name
    (0, 'FLASH_ATTENTION')
    """

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_SWITCHES = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
             SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
             SDPBackend.CUDNN_ATTENTION: "cudnn"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Allow only ``backends`` (an :class:`SDPBackend` or a list of them) for the block, then
    restore the previous switches. ``set_priority`` (PyTorch's order of preference) changes
    nothing here: one implementation serves every kernel.

    Raises
    ------
    AssertionError
        When ``backends`` is not an SDPBackend or a list of them, as PyTorch.

    Examples
    --------
    >>> import flambeau.backends.cuda as cuda
    >>> from flambeau.nn.attention import SDPBackend, sdpa_kernel
    >>> with sdpa_kernel([SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION]):
    ...     cuda.math_sdp_enabled(), cuda.flash_sdp_enabled()
    (True, False)
    >>> cuda.flash_sdp_enabled()
    True
    """
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple)) or not all(
            isinstance(b, SDPBackend) for b in backends):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of "
                             f"SDPBackend instances, got {type(backends).__name__}")
    saved = {kind: getattr(_switches, f"{kind}_sdp_enabled")() for kind in _SWITCHES.values()}
    for backend, kind in _SWITCHES.items():
        getattr(_switches, f"enable_{kind}_sdp")(backend in backends)
    try:
        yield
    finally:
        for kind, enabled in saved.items():
            getattr(_switches, f"enable_{kind}_sdp")(enabled)

"""PyTorch's deprecated per-device mixed-precision classes (``torch.cuda.amp.autocast``,
``torch.cpu.amp.GradScaler``...), made once for every device type.

:func:`device_classes` builds the ``autocast`` and ``GradScaler`` of
``flambeau.<device>.amp``: :mod:`flambeau.amp`'s classes with the device type fixed, which
warn (FutureWarning, torch's text) when created. Their docstrings are written for the device,
so each module documents (and doctests) its own.

Examples
--------
>>> import warnings
>>> import flambeau
>>> from flambeau.amp._legacy import device_classes
>>> autocast, GradScaler = device_classes("cpu", flambeau.bfloat16, __name__)
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     region = autocast()
>>> print(str(caught[0].message).replace("Please", "\\nPlease"))
`flambeau.cpu.amp.autocast(args...)` is deprecated.
Please use `flambeau.amp.autocast('cpu', args...)` instead.
"""

from __future__ import annotations

import warnings

from flambeau.amp._autocast import autocast as _Autocast
from flambeau.amp._grad_scaler import GradScaler as _GradScaler

__all__ = ["device_classes", "warn_deprecated"]


def warn_deprecated(device, name, replacement):
    """Warn that ``flambeau.<device>.amp.<name>`` is deprecated in favour of ``replacement``,
    with torch's text, at the caller of the function that calls this one.

    Examples
    --------
    >>> import warnings
    >>> from flambeau.amp._legacy import warn_deprecated
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_deprecated("cuda", "custom_bwd", "flambeau.amp.custom_bwd(args...)")
    >>> caught[0].category.__name__
    'FutureWarning'
    """
    warnings.warn(f"`flambeau.{device}.amp.{name}(args...)` is deprecated. Please use "
                  f"`{replacement}` instead.", FutureWarning, stacklevel=3)


_AUTOCAST_DOC = """Deprecated: ``flambeau.amp.autocast("{device}", ...)`` (PyTorch's
    ``torch.{device}.amp.autocast``), which it is, with the device type fixed.

    Parameters
    ----------
    enabled : bool
        False makes the region a no-op (or turns off an enclosing region).
    dtype : flambeau.dtype
        ``flambeau.bfloat16`` or ``flambeau.float16``; default ``flambeau.{dtype}``.
    cache_enabled : bool
        Reuse the low-precision copy of each weight within the outermost region.

    Warns
    -----
    FutureWarning
        Whenever one is created: use ``flambeau.amp.autocast("{device}", ...)``.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     region = flambeau.{device}.amp.autocast()
    >>> caught[0].category.__name__
    'FutureWarning'
    >>> region.device, region.fast_dtype
    ('{device}', flambeau.{dtype})
    """

_SCALER_DOC = """Deprecated: ``flambeau.amp.GradScaler("{device}", ...)`` (PyTorch's
    ``torch.{device}.amp.GradScaler``), which it is, with the device fixed.

    Parameters
    ----------
    init_scale, growth_factor, backoff_factor, growth_interval, enabled
        As :class:`flambeau.amp.GradScaler`'s.

    Warns
    -----
    FutureWarning
        Whenever one is created: use ``flambeau.amp.GradScaler("{device}", ...)``.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     scaler = flambeau.{device}.amp.GradScaler(init_scale=8.0, enabled=False)
    >>> scaler.is_enabled(), scaler.get_scale()
    (False, 1.0)
    """


def device_classes(device, default_dtype, module):
    """The deprecated ``(autocast, GradScaler)`` of ``flambeau.<device>.amp``, documented as
    members of the module named ``module``.

    Parameters
    ----------
    device : str
        The device type: ``"cpu"`` or ``"cuda"``.
    default_dtype : flambeau.dtype
        The autocast dtype torch's class defaults to there (bfloat16 on the CPU, float16 on
        CUDA).
    module : str
        The module the classes belong to (their ``__module__``).

    Examples
    --------
    >>> import flambeau
    >>> from flambeau.amp._legacy import device_classes
    >>> autocast, GradScaler = device_classes("cuda", flambeau.float16, "flambeau.cuda.amp")
    >>> issubclass(autocast, flambeau.amp.autocast), GradScaler.__module__
    (True, 'flambeau.cuda.amp')
    """

    class autocast(_Autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            warn_deprecated(device, "autocast", f"flambeau.amp.autocast('{device}', args...)")
            super().__init__(device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            warn_deprecated(device, "GradScaler",
                            f"flambeau.amp.GradScaler('{device}', args...)")
            super().__init__(device, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval,
                             enabled=enabled)

    dtype_name = str(default_dtype).rpartition(".")[2]
    for cls, doc in ((autocast, _AUTOCAST_DOC), (GradScaler, _SCALER_DOC)):
        cls.__module__ = module
        cls.__qualname__ = cls.__name__
        cls.__doc__ = doc.format(device=device, dtype=dtype_name)
        cls.__init__.__qualname__ = f"{cls.__name__}.__init__"
    return autocast, GradScaler

"""``flambeau.cuda.amp``: PyTorch's deprecated CUDA-only mixed-precision names.

``from torch.cuda.amp import autocast, GradScaler`` is common in older code; these classes
are :mod:`flambeau.amp`'s with the device type fixed to ``"cuda"``, and warn (FutureWarning)
as torch's do. They exist without a GPU; using them needs flambeau-cuda.

Examples
--------
>>> import warnings
>>> import flambeau
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", FutureWarning)
...     region = flambeau.cuda.amp.autocast()
>>> region.device, region.fast_dtype
('cuda', flambeau.float16)
"""

from __future__ import annotations

import warnings

from flambeau import _dtype
from flambeau import amp as _amp

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


def _deprecated(name, replacement):
    warnings.warn(f"`flambeau.cuda.amp.{name}(args...)` is deprecated. Please use "
                  f"`{replacement}` instead.", FutureWarning, stacklevel=3)


class autocast(_amp.autocast):
    """Deprecated: ``flambeau.amp.autocast("cuda", ...)``.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = flambeau.cuda.amp.autocast(enabled=False)
    >>> caught[0].category.__name__
    'FutureWarning'
    """

    def __init__(self, enabled=True, dtype=_dtype.float16, cache_enabled=True):
        _deprecated("autocast", "flambeau.amp.autocast('cuda', args...)")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """Deprecated: ``flambeau.amp.GradScaler("cuda", ...)``.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     scaler = flambeau.cuda.amp.GradScaler(enabled=False)
    >>> scaler.is_enabled()
    False
    """

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        _deprecated("GradScaler", "flambeau.amp.GradScaler('cuda', args...)")
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """Deprecated: ``flambeau.amp.custom_fwd(device_type="cuda", ...)``.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     forward = flambeau.cuda.amp.custom_fwd(lambda ctx, x: x * 2)
    >>> forward.__name__
    '<lambda>'
    """
    _deprecated("custom_fwd", "flambeau.amp.custom_fwd(args..., device_type='cuda')")
    return _amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    """Deprecated: ``flambeau.amp.custom_bwd(device_type="cuda")``.

    Examples
    --------
    >>> import warnings
    >>> import flambeau
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     backward = flambeau.cuda.amp.custom_bwd(lambda ctx, g: g * 2)
    >>> backward.__name__
    '<lambda>'
    """
    _deprecated("custom_bwd", "flambeau.amp.custom_bwd(args..., device_type='cuda')")
    return _amp.custom_bwd(bwd, device_type="cuda")

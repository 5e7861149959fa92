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

from flambeau import _dtype
from flambeau import amp as _amp
from flambeau.amp._legacy import device_classes, warn_deprecated

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]

autocast, GradScaler = device_classes("cuda", _dtype.float16, __name__)


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
    warn_deprecated("cuda", "custom_fwd", "flambeau.amp.custom_fwd(args..., device_type='cuda')")
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
    warn_deprecated("cuda", "custom_bwd", "flambeau.amp.custom_bwd(args..., device_type='cuda')")
    return _amp.custom_bwd(bwd, device_type="cuda")

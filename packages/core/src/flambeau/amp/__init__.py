"""Mixed precision: :class:`autocast` regions and :class:`GradScaler` (``torch.amp``).

Examples
--------
>>> import flambeau
>>> from flambeau import amp
>>> with amp.autocast("cpu"):
...     y = flambeau.ones(2, 2) @ flambeau.ones(2, 2)
>>> y.dtype
flambeau.bfloat16
"""

from flambeau.amp._autocast import (
    autocast,
    get_autocast_dtype,
    is_autocast_enabled,
)
from flambeau.amp._custom import custom_bwd, custom_fwd, is_autocast_available
from flambeau.amp._grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype", "custom_fwd",
           "custom_bwd", "is_autocast_available"]

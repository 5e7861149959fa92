"""``flambeau.cpu.amp``: PyTorch's deprecated CPU mixed-precision names.

``from torch.cpu.amp import autocast`` appears in older code; these classes are
:mod:`flambeau.amp`'s with the device type fixed to ``"cpu"``, and warn (FutureWarning) as
torch's do. As in torch, the autocast dtype defaults to bfloat16.

Examples
--------
>>> import warnings
>>> import flambeau
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", FutureWarning)
...     with flambeau.cpu.amp.autocast():
...         y = flambeau.ones(2, 3) @ flambeau.ones(3, 2)
>>> y.dtype
flambeau.bfloat16
"""

from __future__ import annotations

from flambeau import _dtype
from flambeau.amp._legacy import device_classes

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = device_classes("cpu", _dtype.bfloat16, __name__)

"""Signal processing, as ``torch.signal``: for now the window functions of
:mod:`flambeau.signal.windows`.

``import flambeau`` reaches it on first access (``flambeau.signal.windows.hann(5)``), as
``torch.signal`` after ``import torch``.

Examples
--------
>>> import flambeau
>>> flambeau.signal.windows.hann(5)
tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

from flambeau.signal import windows

__all__ = ["windows"]

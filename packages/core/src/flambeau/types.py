"""flambeau.types: the type aliases of PyTorch's ``torch.types``, for annotations.

``Number`` is ``int | float | bool``, ``Device`` what a ``device=`` argument takes
(``flambeau.device | str | int | None``), ``FileLike`` what :func:`flambeau.save` and
:func:`flambeau.load` take (a path or a binary file object) and ``Storage`` the class both
storages derive from. ``Tensor``, ``Size`` and the ``IntLikeType``/``FloatLikeType``/
``BoolLikeType`` aliases are there too (flambeau has no symbolic numbers, so the last three
are ``int``, ``float`` and ``bool``). ``Number`` and ``Device`` work with
``isinstance``.

Examples
--------
>>> import flambeau
>>> from flambeau.types import Device, Number
>>> def scale(x: flambeau.Tensor, factor: Number, device: Device = None) -> flambeau.Tensor:
...     return (x * factor).to(device or x.device)
>>> isinstance(2.5, Number), isinstance("cpu", Device)
(True, True)
"""

from __future__ import annotations

import os
from typing import IO, Union

from flambeau._device import device as _device
from flambeau._storage import _Storage as Storage
from flambeau._tensor import Size, Tensor  # noqa: F401 - torch.types has them

__all__ = ["Number", "Device", "FileLike", "Storage"]

Number = int | float | bool
Device = _device | str | int | None
FileLike = Union[str, os.PathLike, IO[bytes]]  # noqa: UP007 - IO[bytes] is no class for |

IntLikeType = int
FloatLikeType = float
BoolLikeType = bool

"""``flambeau`` is one namespace over several distributions; say which one to install.

A bare ``import flambeau`` also reaches them as attributes (``flambeau.nn.Linear``,
``flambeau.utils.data.DataLoader``), as ``import torch`` does, by importing the subpackage on
first access: core itself never imports them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: subpackage -> distribution that provides it
PROVIDERS = {
    "flambeau.nn": "flambeau-nn",
    "flambeau.optim": "flambeau-optim",
    "flambeau.data": "flambeau-data",
    "flambeau.vision": "flambeau-vision",
    "flambeau.distributed": "flambeau-distributed",
    "flambeau.utils": "flambeau-data",  # torch.utils.data's spelling of flambeau.data
}


class MissingSubpackageFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: reached only when no installed distribution has the module."""

    def find_spec(self, fullname, path, target=None):
        top = ".".join(fullname.split(".")[:2])
        dist = PROVIDERS.get(top)
        if dist is None or top in sys.modules:
            return None  # a missing module inside an installed subpackage: the usual error
        if _probing():
            return None  # importlib.util.find_spec asks whether it is installed: it is not
        raise ModuleNotFoundError(
            f"{top} is provided by {dist}: pip install {dist}", name=fullname
        )


_UTIL_FIND_SPEC = importlib.util.find_spec.__code__


def _probing() -> bool:
    """Whether ``importlib.util.find_spec`` is on the stack just above the finder.

    Code that checks for an optional package with ``find_spec(...) is None`` must get None,
    not the error meant for an ``import`` statement. Both reach the finder through
    ``importlib._bootstrap._find_spec``; only the caller a few frames up tells them apart.
    """
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return False
        if frame.f_code is _UTIL_FIND_SPEC:
            return True
        frame = frame.f_back
    return False


def install() -> None:
    if not any(isinstance(f, MissingSubpackageFinder) for f in sys.meta_path):
        sys.meta_path.append(MissingSubpackageFinder())


def load(name: str):
    """``flambeau.<name>`` for a subpackage of another distribution, imported now.

    Raises AttributeError (so ``hasattr`` answers False) naming the distribution to install
    when it is missing; an installed subpackage that fails to import raises its own error.
    """
    full = f"flambeau.{name}"
    if full not in PROVIDERS:
        raise AttributeError(f"module 'flambeau' has no attribute '{name}'")
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as missing:
        if missing.name != full:
            raise
        raise AttributeError(f"module 'flambeau' has no attribute '{name}': {missing}") from None

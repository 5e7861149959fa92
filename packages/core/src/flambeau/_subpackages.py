"""``flambeau`` is one namespace over several distributions; say which one to install."""

from __future__ import annotations

import importlib.abc
import sys

#: subpackage -> distribution that provides it
PROVIDERS = {
    "flambeau.nn": "flambeau-nn",
    "flambeau.optim": "flambeau-optim",
    "flambeau.data": "flambeau-data",
    "flambeau.vision": "flambeau-vision",
    "flambeau.distributed": "flambeau-distributed",
}


class MissingSubpackageFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: reached only when no installed distribution has the module."""

    def find_spec(self, fullname, path, target=None):
        top = ".".join(fullname.split(".")[:2])
        dist = PROVIDERS.get(top)
        if dist is None or top in sys.modules:
            return None  # a missing module inside an installed subpackage: the usual error
        raise ModuleNotFoundError(
            f"{top} is provided by {dist}: pip install {dist}", name=fullname
        )


def install() -> None:
    if not any(isinstance(f, MissingSubpackageFinder) for f in sys.meta_path):
        sys.meta_path.append(MissingSubpackageFinder())

"""flambeau.nn.parallel: DataParallel, data_parallel, and DistributedDataParallel from
flambeau-distributed.

DistributedDataParallel is looked up on first access, so ``flambeau.nn`` never imports (or
requires) ``flambeau.distributed``.

Examples
--------
>>> import flambeau.nn.parallel as parallel
>>> try:
...     DDP = parallel.DistributedDataParallel
... except ImportError as e:
...     DDP = None
"""

from __future__ import annotations

import importlib

from flambeau.nn.parallel.data_parallel import DataParallel, data_parallel

# as in torch, the function data_parallel shadows the submodule of the same name here
__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]

_MISSING = ("flambeau.nn.parallel.DistributedDataParallel is provided by flambeau-distributed: "
            "pip install flambeau-distributed")


def __getattr__(name):
    if name != "DistributedDataParallel":
        raise AttributeError(f"module 'flambeau.nn.parallel' has no attribute '{name}'")
    try:
        dist = importlib.import_module("flambeau.distributed")
        return dist.DistributedDataParallel
    except (ImportError, AttributeError) as e:
        raise ImportError(_MISSING) from e


def __dir__():
    return sorted(list(globals()) + __all__)

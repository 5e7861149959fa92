"""flambeau.utils.data: :mod:`flambeau.data` under PyTorch's name ``torch.utils.data``.

Every name is the very object of :mod:`flambeau.data` (same classes, so ``isinstance`` and
pickling agree); the submodules ``dataset``, ``sampler``, ``dataloader`` and ``distributed``
mirror PyTorch's for code that imports from them.

Examples
--------
>>> import flambeau
>>> from flambeau.utils.data import DataLoader, TensorDataset
>>> [b[0].tolist() for b in DataLoader(TensorDataset(flambeau.arange(3)), batch_size=2)]
[[0, 1], [2]]
"""

from flambeau.data import *  # noqa: F403
from flambeau.data import __all__  # noqa: F401
from flambeau.utils.data import dataloader, dataset, distributed, sampler  # noqa: E402,F401

"""flambeau.vision: datasets, transforms, models and a reference trainer (torchvision's API).

Examples
--------
>>> import flambeau
>>> from flambeau.vision import models, transforms
>>> model = models.lenet()
>>> model(flambeau.zeros(1, 1, 28, 28)).shape
flambeau.Size([1, 10])
"""

from flambeau.vision import datasets, io, models, ops, transforms, tv_tensors, utils

__all__ = ["datasets", "io", "models", "ops", "transforms", "tv_tensors", "utils"]
__version__ = "0.1.0"

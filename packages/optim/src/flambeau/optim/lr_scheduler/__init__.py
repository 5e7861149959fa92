"""Learning-rate schedulers with PyTorch's sequences (``torch.optim.lr_scheduler``).

Call ``scheduler.step()`` after ``optimizer.step()``, once per epoch (or per batch for
:class:`CyclicLR` and :class:`OneCycleLR`).

Examples
--------
>>> import flambeau
>>> from flambeau.optim import SGD
>>> from flambeau.optim.lr_scheduler import StepLR
>>> opt = SGD([flambeau.ones(1, requires_grad=True)], lr=1.0)
>>> sched = StepLR(opt, step_size=1, gamma=0.5)
>>> opt.step(); sched.step(); sched.get_last_lr()
[0.5]
"""

from flambeau.optim.lr_scheduler._base import LRScheduler
from flambeau.optim.lr_scheduler._basic import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from flambeau.optim.lr_scheduler._composite import ChainedScheduler, SequentialLR
from flambeau.optim.lr_scheduler._cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from flambeau.optim.lr_scheduler._plateau import ReduceLROnPlateau

_LRScheduler = LRScheduler  # the pre-2.0 PyTorch name, still used by older code

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
    "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler",
    "ReduceLROnPlateau",
]

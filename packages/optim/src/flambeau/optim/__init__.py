"""flambeau.optim: optimizers and learning-rate schedulers with PyTorch's update rules.

Examples
--------
>>> import flambeau
>>> from flambeau import optim
>>> w = flambeau.tensor([3.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w ** 2).sum().backward()
>>> opt.step()
>>> w
tensor([2.4000], requires_grad=True)
"""

from flambeau.optim import lr_scheduler
from flambeau.optim._adadelta import Adadelta
from flambeau.optim._adafactor import Adafactor
from flambeau.optim._adagrad import Adagrad
from flambeau.optim._adam import Adam, AdamW
from flambeau.optim._adamax import Adamax
from flambeau.optim._asgd import ASGD
from flambeau.optim._lbfgs import LBFGS
from flambeau.optim._muon import Muon
from flambeau.optim._nadam import NAdam
from flambeau.optim._optimizer import Optimizer, required
from flambeau.optim._radam import RAdam
from flambeau.optim._rmsprop import RMSprop
from flambeau.optim._rprop import Rprop
from flambeau.optim._sgd import SGD
from flambeau.optim._sparse_adam import SparseAdam
from flambeau.optim._swap_in import swap_in_optimizer_params_and_state

__all__ = [
    "Optimizer", "required", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop",
    "Adagrad", "Adadelta", "LBFGS", "ASGD", "Rprop", "Adafactor", "Muon", "SparseAdam",
    "lr_scheduler", "swap_in_optimizer_params_and_state",
]


def __getattr__(name):
    # swa_utils needs flambeau-nn, an optional dependency: imported on first use, as
    # ``flambeau.optim.swa_utils`` after ``import flambeau.optim`` works in PyTorch
    if name == "swa_utils":
        import importlib

        try:
            return importlib.import_module("flambeau.optim.swa_utils")
        except ModuleNotFoundError as missing:
            if not (missing.name or "").startswith("flambeau.nn"):
                raise
            # AttributeError, so that hasattr() answers False, naming what to install
            raise AttributeError(
                f"module 'flambeau.optim' has no attribute 'swa_utils': {missing}") from None
    raise AttributeError(f"module 'flambeau.optim' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | {"swa_utils"})

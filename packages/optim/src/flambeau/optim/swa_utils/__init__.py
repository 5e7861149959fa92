"""Stochastic weight averaging and EMA of models, PyTorch's ``torch.optim.swa_utils``.

:class:`AveragedModel` keeps a running average (equal weights, or an exponential moving
average) of a model's parameters, :class:`SWALR` anneals the learning rate to a constant
for the averaging phase, and :func:`update_bn` recomputes the BatchNorm statistics of the
averaged weights. Needs flambeau-nn (``pip install flambeau-optim[nn]``).

Examples
--------
>>> import flambeau
>>> from flambeau import nn
>>> from flambeau.optim import SGD
>>> from flambeau.optim.swa_utils import SWALR, AveragedModel
>>> model = nn.Linear(1, 1, bias=False)
>>> swa_model = AveragedModel(model)
>>> opt = SGD(model.parameters(), lr=0.1)
>>> sched = SWALR(opt, swa_lr=0.05, anneal_epochs=2)
>>> for value in (1.0, 2.0, 6.0):
...     with flambeau.no_grad():
...         _ = model.weight.fill_(value)
...     swa_model.update_parameters(model)
...     opt.step(); sched.step()
>>> swa_model.module.weight, swa_model.n_averaged, sched.get_last_lr()
(Parameter containing:
tensor([[3.]], requires_grad=True), tensor(3), [0.05])
"""

try:
    import flambeau.nn  # noqa: F401  (AveragedModel is an nn.Module)
except ModuleNotFoundError as missing:  # pragma: no cover - only without flambeau-nn
    if not (missing.name or "").startswith("flambeau.nn"):
        raise
    raise ModuleNotFoundError(
        "flambeau.optim.swa_utils needs flambeau.nn (AveragedModel is an nn.Module): "
        "pip install flambeau-optim[nn]", name=missing.name) from None

from flambeau.optim.swa_utils._averaged_model import (
    AveragedModel,
    get_ema_avg_fn,
    get_ema_multi_avg_fn,
    get_swa_avg_fn,
    get_swa_multi_avg_fn,
    update_bn,
)
from flambeau.optim.swa_utils._swalr import SWALR

__all__ = [
    "AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
    "get_ema_avg_fn", "get_swa_avg_fn",
]

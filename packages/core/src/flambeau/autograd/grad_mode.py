"""``flambeau.autograd.grad_mode``: where PyTorch code imports the grad-mode switches
(``from torch.autograd.grad_mode import no_grad``). The names are those of
:mod:`flambeau.autograd`.

Examples
--------
>>> import flambeau
>>> from flambeau.autograd.grad_mode import no_grad
>>> no_grad is flambeau.no_grad
True
"""

from flambeau.autograd._grad_mode import (  # noqa: F401 - re-exported
    enable_grad,
    inference_mode,
    no_grad,
    set_grad_enabled,
    set_multithreading_enabled,
)

__all__ = ["enable_grad", "inference_mode", "no_grad", "set_grad_enabled",
           "set_multithreading_enabled"]

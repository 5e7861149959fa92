"""Composable function transforms (PyTorch's ``torch.func``): grad, vjp, jvp, jacobians, vmap.

The transforms take a function and return a function, and nest freely: ``grad(grad(f))``,
``jacrev(jacfwd(f))``, ``vmap(grad(f))`` (per-sample gradients), ``vmap(vmap(f))``.
:func:`functional_call` runs a module with given weights, so a model becomes a function of
its parameters.

Examples
--------
>>> import flambeau
>>> from flambeau.func import grad, vmap
>>> w = flambeau.tensor([1.0, -1.0])
>>> xs = flambeau.tensor([[1.0, 2.0], [3.0, 5.0]])
>>> loss = lambda w, x: (w * x).sum() ** 2
>>> vmap(grad(loss), in_dims=(None, 0))(w, xs)
tensor([[ -2.,  -4.],
        [-12., -20.]])
"""

from __future__ import annotations

from flambeau.func._eager import debug_unwrap, functionalize
from flambeau.func._functional_call import functional_call, stack_module_state
from flambeau.func._transforms import (
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    vjp,
)
from flambeau.func._vmap import vmap

__all__ = ["debug_unwrap", "functional_call", "functionalize", "grad", "grad_and_value",
           "hessian", "jacfwd", "jacrev", "jvp", "linearize", "replace_all_batch_norm_modules_",
           "stack_module_state", "vjp", "vmap"]


def __getattr__(name):
    # torch.func.replace_all_batch_norm_modules_ changes nn modules: flambeau-nn provides it
    # (without it installed, importing flambeau.nn says which distribution to install)
    if name == "replace_all_batch_norm_modules_":
        from flambeau.nn._func import replace_all_batch_norm_modules_

        return replace_all_batch_norm_modules_
    raise AttributeError(f"module 'flambeau.func' has no attribute {name!r}")

"""Automatic differentiation: backward, grad, custom Functions, gradcheck, anomaly detection.

Examples
--------
>>> import flambeau
>>> x = flambeau.tensor([3.0], requires_grad=True)
>>> (g,) = flambeau.autograd.grad(x ** 3, x, create_graph=True)
>>> (g2,) = flambeau.autograd.grad(g, x)
>>> g, g2
(tensor([27.], grad_fn=<MulBackward0>), tensor([18.]))
"""

from __future__ import annotations

from flambeau.autograd import _engine, graph  # noqa: F401 - graph: torch.autograd.graph
from flambeau.autograd._anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from flambeau.autograd._function import Function, FunctionCtx, once_differentiable
from flambeau.autograd._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_multithreading_enabled,
    no_grad,
    set_grad_enabled,
    set_multithreading_enabled,
)
from flambeau.autograd._gradcheck import GradcheckError, gradcheck, gradgradcheck
from flambeau.autograd._variable import Variable

__all__ = [
    "Function", "FunctionCtx", "once_differentiable", "backward", "grad", "gradcheck",
    "gradgradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly",
    "is_anomaly_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
    "is_grad_enabled", "function", "Variable", "set_multithreading_enabled",
    "is_multithreading_enabled",
]


class _FunctionModule:
    """``flambeau.autograd.function``: where PyTorch code finds Function and friends.

    Examples
    --------
    >>> import flambeau
    >>> flambeau.autograd.function.Function is flambeau.autograd.Function
    True
    """

    Function = Function
    FunctionCtx = FunctionCtx
    once_differentiable = staticmethod(once_differentiable)


function = _FunctionModule()


def __getattr__(name):
    # flambeau.autograd.functional (torch.autograd.functional) and .profiler need the whole
    # of flambeau, which imports this package first: load them on first access, and the
    # modules PyTorch code imports names from (grad_mode, anomaly_mode, variable) with them
    if name in ("functional", "profiler", "grad_mode", "anomaly_mode", "variable",
                "forward_ad"):
        import importlib

        return importlib.import_module(f"flambeau.autograd.{name}")
    raise AttributeError(f"module 'flambeau.autograd' has no attribute {name!r}")


def _as_list(x):
    from flambeau._tensor import Tensor

    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _root_grads(outputs, grad_outputs, create_graph, op):
    from flambeau import _creation

    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; the output "
                    f"has shape {tuple(out.shape)}. Pass `gradient=` (for example "
                    "flambeau.ones_like(out)) or reduce it to a scalar first, e.g. out.sum()"
                )
            g = _creation.ones_like(out)
        elif not hasattr(g, "_data"):
            g = _creation.tensor(g, dtype=out.dtype, device=out.device)
        elif tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(
                f"{op}: Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                f"output[{i}] has a shape of {tuple(out.shape)}."
            )
        grads.append(g if create_graph else g.detach())
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.ones(2, requires_grad=True)
    >>> flambeau.autograd.backward([(x * 2).sum(), (x * 3).sum()])
    >>> x.grad
    tensor([5., 5.])
    """
    outputs = _as_list(tensors)
    grad_list = _as_list(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, grad_list, create_graph, "backward")
    inputs = _as_list(inputs)
    if inputs is not None and not inputs:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
    _engine.run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                         inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    Examples
    --------
    >>> import flambeau
    >>> x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    >>> flambeau.autograd.grad((x ** 2).sum(), x)
    (tensor([2., 4.]),)
    """
    out_list = _as_list(outputs)
    in_list = _as_list(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(out_list, _as_list(grad_outputs), create_graph, "grad")
    allow = bool(allow_unused) or materialize_grads
    result = _engine.run_backward(out_list, grads, retain_graph=retain_graph,
                                  create_graph=create_graph, inputs=in_list, accumulate=False,
                                  allow_unused=allow)
    if materialize_grads:
        from flambeau import _creation

        result = [g if g is not None else _creation.zeros_like(x)
                  for g, x in zip(result, in_list)]
    return tuple(result)
